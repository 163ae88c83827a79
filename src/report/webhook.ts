// Posts a message to a Slack-compatible incoming webhook: a timeout per attempt, retries with
// backoff on 429 and 5xx (honouring Retry-After), and an honest account of every attempt.

export interface PostResult {
  ok: boolean;
  attempts: number;
  status?: number;
  error?: string;
}

export interface PostOptions {
  timeoutMs?: number;
  maxAttempts?: number;
  /** First backoff; doubles each retry. */
  backoffMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export async function postWebhook(url: string, payload: unknown, opts: PostOptions = {}): Promise<PostResult> {
  const maxAttempts = opts.maxAttempts ?? 4;
  const sleep = opts.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  let backoff = opts.backoffMs ?? 500;
  let last: PostResult = { ok: false, attempts: 0 };
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    let retryAfterMs: number | undefined;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
      });
      const body = (await res.text()).slice(0, 200);
      if (res.ok) return { ok: true, attempts: attempt, status: res.status };
      last = { ok: false, attempts: attempt, status: res.status, error: `HTTP ${res.status}${body ? `: ${body.trim()}` : ''}` };
      if (res.status !== 429 && res.status < 500) return last; // a 4xx will not get better by asking again
      const ra = Number(res.headers.get('retry-after'));
      if (Number.isFinite(ra) && ra > 0) retryAfterMs = Math.min(ra * 1000, 30_000);
    } catch (err) {
      const e = err as Error;
      last = { ok: false, attempts: attempt, error: e.name === 'TimeoutError' ? `no answer within ${(opts.timeoutMs ?? 10_000) / 1000}s` : e.message };
    }
    if (attempt < maxAttempts) {
      await sleep(retryAfterMs ?? backoff);
      backoff *= 2;
    }
  }
  return last;
}

/** The webhook's host only, for messages: the path of an incoming webhook is its secret. */
export function webhookLabel(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'the webhook';
  }
}

/**
 * Text for Slack's `text` field: `&`, `<` and `>` escaped as Slack documents, so that a title or a
 * note saying `<!channel>` or `<@U123>` is shown as written instead of paging everyone.
 */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
