// The outbox's sender: delivers an incident's pending messages in the order they were queued, one
// provider at a time in order (an acknowledge never overtakes its trigger), retrying 429, 5xx and
// network errors with backoff (Retry-After honoured) within one budget per command, and records
// each outcome as notify.sent or notify.failed. Whatever is not out when the budget runs out stays
// pending for the next command or `ir outbox retry`.

import type { Incident, MessageState, TimelineEvent } from '../core/incident.js';
import type { Store } from '../store/types.js';
import { PROVIDER_LABEL, type QueuedMessage } from './plan.js';

export interface SendOptions {
  env: NodeJS.ProcessEnv;
  /** When the budget of this command ends (ms since the epoch, real time). */
  deadline: number;
  /** First backoff; doubles after each retry. */
  backoffMs: number;
  now: () => Date;
  actor: string;
  /** Only these messages (and, to keep the order, the pending ones queued before them). */
  only?: Set<string>;
  /** Send the messages named in `only` even when they failed for good (a retry the responder asked for). */
  again?: boolean;
  /** Who is sending, for the claim other processes respect: `host/pid`. */
  sender: string;
  sleep?: (ms: number) => Promise<void>;
}

export interface Outcome {
  incidentId: string;
  message: MessageState;
  /** sent, failed for good, or still pending. */
  state: MessageState['state'];
  attempts: number;
  ref?: string;
  error?: string;
  /** For the one-line summary: "HTTP 503 ×3". */
  tally?: string;
}

/** The budget of one command: IR_NOTIFY_BUDGET_MS (default 5 s), IR_NOTIFY_BACKOFF_MS (default 500 ms). */
export function budgetFromEnv(env: NodeJS.ProcessEnv): { budgetMs: number; backoffMs: number } {
  const num = (v: string | undefined, d: number) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : d);
  return { budgetMs: num(env.IR_NOTIFY_BUDGET_MS, 5000), backoffMs: num(env.IR_NOTIFY_BACKOFF_MS, 500) };
}

type Verdict = { ok: true; ref?: string } | { ok: false; final: boolean; error: string };

interface Prepared {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** The HTTP request for a queued message, with its secret read now; or why it cannot be sent yet. */
function prepare(q: QueuedMessage, env: NodeJS.ProcessEnv, threadTs: string | undefined): Prepared | { wait: string } {
  const secret = env[q.secret_env];
  if (!secret) return { wait: `${q.secret_env} is not set (ir.yaml names it for ${PROVIDER_LABEL[q.provider]})` };
  const json = { 'content-type': 'application/json' };
  switch (q.provider) {
    case 'pagerduty':
      return { url: q.url, headers: json, body: JSON.stringify({ routing_key: secret, ...q.body }) };
    case 'opsgenie':
      return { url: q.url, headers: { ...json, authorization: `GenieKey ${secret}` }, body: JSON.stringify(q.body) };
    case 'slack': {
      const body: Record<string, unknown> = { ...q.body };
      if (q.thread && threadTs) body.thread_ts = threadTs;
      // Broadcasting is a thread reply's option; without a thread the message is in the channel anyway.
      if (!body.thread_ts) delete body.reply_broadcast;
      return { url: q.url, headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${secret}` }, body: JSON.stringify(body) };
    }
  }
}

/** Slack answers most failures with HTTP 200 and ok:false; these few are worth asking again. */
const SLACK_TRANSIENT = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'ratelimited']);

function judge(q: QueuedMessage, status: number, text: string): Verdict {
  let doc: Record<string, unknown> | undefined;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch {
    doc = undefined;
  }
  const short = text.replace(/\s+/g, ' ').trim().slice(0, 160);
  if (status === 429 || status >= 500) return { ok: false, final: false, error: `HTTP ${status}${short ? `: ${short}` : ''}` };
  if (status >= 400) return { ok: false, final: true, error: `HTTP ${status}${short ? `: ${short}` : ''}` };
  if (status < 200 || status >= 300) return { ok: false, final: false, error: `HTTP ${status}` };
  switch (q.provider) {
    case 'pagerduty':
      return { ok: true, ref: typeof doc?.dedup_key === 'string' ? doc.dedup_key : String(q.body.dedup_key) };
    case 'opsgenie':
      return { ok: true, ref: typeof doc?.requestId === 'string' ? doc.requestId : undefined };
    case 'slack':
      if (doc?.ok === true && typeof doc.ts === 'string') return { ok: true, ref: doc.ts };
      {
        const error = typeof doc?.error === 'string' ? doc.error : `unexpected answer: ${short}`;
        return { ok: false, final: !SLACK_TRANSIENT.has(error), error: `Slack: ${error}` };
      }
  }
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

interface Delivery {
  verdict: Verdict;
  attempts: number;
  tally?: string;
}

async function deliver(q: QueuedMessage, req: Prepared, opts: SendOptions): Promise<Delivery> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  let backoff = opts.backoffMs;
  let attempts = 0;
  const seen: string[] = [];
  let last: Verdict = { ok: false, final: false, error: 'not attempted: no time left in this command' };
  let waitNote = '';
  for (;;) {
    const remaining = opts.deadline - Date.now();
    if (remaining <= 0) break;
    attempts++;
    let wait: number | undefined;
    try {
      const res = await fetch(req.url, { method: 'POST', headers: req.headers, body: req.body, signal: AbortSignal.timeout(Math.max(1000, Math.min(remaining, 10_000))) });
      const text = await res.text();
      last = judge(q, res.status, text);
      seen.push(`HTTP ${res.status}`);
      if (last.ok || last.final) return { verdict: last, attempts };
      wait = retryAfterMs(res.headers.get('retry-after'));
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      const why = e.name === 'TimeoutError' ? 'no answer in time' : (e.cause?.code ?? e.message);
      last = { ok: false, final: false, error: why };
      seen.push(why);
    }
    const pause = wait ?? backoff;
    backoff *= 2;
    if (Date.now() + pause > opts.deadline) {
      if (wait !== undefined) waitNote = `, Retry-After ${Math.ceil(wait / 1000)}s`;
      break;
    }
    await sleep(pause);
  }
  const same = seen.length > 0 && seen.every((s) => s === seen[0]);
  const tally = seen.length === 0 ? 'not attempted' : `${same ? seen[0] : seen.at(-1)} ×${seen.length}${waitNote}`;
  return { verdict: last, attempts, tally };
}

/** The queued requests of an incident, by message id, from its notify.queued events. */
export function queuedRequests(events: TimelineEvent[]): Map<string, QueuedMessage> {
  const out = new Map<string, QueuedMessage>();
  for (const e of events) if (e.type === 'notify.queued') out.set(String(e.data.msg), e.data as unknown as QueuedMessage);
  return out;
}

/** Whether anything of this incident is waiting to go out. */
export function hasPending(incident: Incident): boolean {
  return (incident.messages ?? []).some((m) => m.state === 'pending');
}

/**
 * Sends what is pending for one incident, each provider's messages in queue order, providers side
 * by side; appends each outcome. Stops a provider at its first message that stays pending.
 */
export async function sendPending(store: Store, incidentId: string, opts: SendOptions): Promise<Outcome[]> {
  const incident = await store.getIncident(incidentId);
  const messages = incident?.messages ?? [];
  const eligible = (m: MessageState) => m.state === 'pending' || (opts.again === true && m.state === 'failed' && opts.only?.has(m.id) === true);
  let wanted = messages.filter(eligible);
  if (opts.only) {
    // A named message goes out after the pending ones queued before it for the same provider.
    const named = messages.filter((m) => opts.only!.has(m.id));
    wanted = wanted.filter((m) => named.some((n) => n.provider === m.provider && messages.indexOf(m) <= messages.indexOf(n)));
  }
  if (!wanted.length) return [];
  const requests = queuedRequests(await store.events(incidentId));
  const byProvider = new Map<string, MessageState[]>();
  for (const m of wanted) byProvider.set(m.provider, [...(byProvider.get(m.provider) ?? []), m]);
  const outcomes: Outcome[] = [];
  // Slack threads hang off the first Slack message that went out for this incident.
  let threadTs = messages.find((m) => m.provider === 'slack' && m.state === 'sent' && m.ref)?.ref;

  await Promise.all(
    [...byProvider.values()].map(async (queue) => {
      for (const m of queue) {
        const q = requests.get(m.id);
        if (!q) continue; // its queued event is not readable here (it cannot be sent without its request)
        // Claimed inside the write lock: two commands (two responders on the team store) never send
        // the same message at once, and one that went out meanwhile is not sent again.
        const claim = await store.append(
          incidentId,
          (current) => {
            const now = current.messages?.find((x) => x.id === m.id);
            if (!now || now.state === 'sent' || (now.state === 'failed' && !(opts.again && opts.only?.has(m.id)))) return [];
            if (now.sendingBy && now.sendingBy !== opts.sender && now.sendingUntil && Date.parse(now.sendingUntil) > Date.now()) return [];
            // The claim outlives the budget by one attempt's timeout; a sender that died frees it then.
            return { type: 'notify.sending', data: { msg: m.id, provider: m.provider, action: m.action, by: opts.sender, until: new Date(opts.deadline + 10_000).toISOString() } };
          },
          opts.now(),
          opts.actor,
        );
        if (!claim.events.length) {
          const now = claim.incident.messages?.find((x) => x.id === m.id);
          if (now?.state === 'sent') continue;
          outcomes.push({ incidentId, message: m, state: 'pending', attempts: 0, error: `being sent by ${now?.sendingBy ?? 'another command'}`, tally: `being sent by ${now?.sendingBy ?? 'another command'}` });
          break;
        }
        const req = prepare(q, opts.env, q.provider === 'slack' ? threadTs : undefined);
        let outcome: Outcome;
        if ('wait' in req) {
          outcome = { incidentId, message: m, state: 'pending', attempts: 0, error: req.wait, tally: req.wait };
        } else {
          const d = await deliver(q, req, opts);
          outcome = d.verdict.ok
            ? { incidentId, message: m, state: 'sent', attempts: d.attempts, ref: d.verdict.ref }
            : { incidentId, message: m, state: d.verdict.final ? 'failed' : 'pending', attempts: d.attempts, error: d.verdict.error, tally: d.tally };
        }
        if (outcome.state === 'sent' && q.provider === 'slack' && !threadTs) threadTs = outcome.ref;
        const data: Record<string, unknown> = { msg: m.id, provider: m.provider, action: m.action, attempts: outcome.attempts };
        if (outcome.state === 'sent') {
          if (outcome.ref) data.ref = outcome.ref;
        } else {
          data.error = outcome.error;
          data.final = outcome.state === 'failed';
        }
        await store.append(incidentId, () => ({ type: outcome.state === 'sent' ? 'notify.sent' : 'notify.failed', data }), opts.now(), opts.actor);
        outcomes.push(outcome);
        if (outcome.state === 'pending') break;
      }
    }),
  );
  return outcomes;
}

/** One line per outcome, for stderr. */
export function outcomeLine(o: Outcome, fullId = false): string {
  const what = `${PROVIDER_LABEL[o.message.provider] ?? o.message.provider} ${o.message.action}${fullId ? ` ${o.incidentId}/${o.message.id}` : ''}`;
  if (o.state === 'sent') return `${what} sent${o.ref ? ` (${o.message.provider === 'slack' ? 'ts' : o.message.provider === 'pagerduty' ? 'dedup_key' : 'requestId'} ${o.ref})` : ''}.`;
  if (o.state === 'failed') return `${what} failed for good: ${o.error}; not retried (\`ir outbox\` lists it; \`ir outbox retry ${o.incidentId}/${o.message.id}\` sends it again).`;
  return `${what} pending (${o.tally ?? o.error}); \`ir outbox\` retries.`;
}
