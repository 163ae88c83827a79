// Stand-ins for PagerDuty's Events API v2, Slack's chat.postMessage and Opsgenie's Alert API on
// loopback. Each checks every request against the provider's documented shape (a request that does
// not match is answered the way the provider answers it, and listed in `problems`), records it with
// the time it arrived, and answers like the provider — or with the next scripted status.

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';

export interface Seen {
  at: number;
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

export interface Scripted {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface Stand {
  url: string;
  port: number;
  seen: Seen[];
  /** Shape violations found in requests; a passing test expects none. */
  problems: string[];
  /** Answers for the next requests, in order; after them, the provider's normal answer. */
  script: Scripted[];
  /** Answer every request with this until cleared (a storm). */
  always?: Scripted;
  /** Hold each answer this long (a slow provider). */
  delayMs?: number;
  close(): Promise<void>;
}

type Answer = Scripted;
type Handler = (req: Seen, problems: string[]) => Answer;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const onlyKeys = (o: Record<string, unknown>, allowed: string[], where: string, problems: string[]) => {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) problems.push(`${where}: unexpected field ${k}`);
};

async function stand(handler: Handler): Promise<Stand> {
  const state: Stand = { url: '', port: 0, seen: [], problems: [], script: [], close: async () => undefined };
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', () => {
      let body: Record<string, unknown> = {};
      const problems: string[] = [];
      try {
        body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      } catch {
        problems.push(`body is not JSON: ${raw.slice(0, 80)}`);
      }
      const seen: Seen = { at: Date.now(), method: req.method ?? '', path: req.url ?? '', headers: req.headers, body };
      state.seen.push(seen);
      let answer = handler(seen, problems);
      state.problems.push(...problems);
      const scripted = state.always ?? state.script.shift();
      if (scripted && !problems.length) answer = scripted;
      setTimeout(() => {
        res.writeHead(answer.status, { 'content-type': 'application/json', ...(answer.headers ?? {}) });
        res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
      }, state.delayMs ?? 0);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.port = (server.address() as { port: number }).port;
  state.url = `http://127.0.0.1:${state.port}`;
  state.close = () => new Promise((r) => server.close(() => r()));
  return state;
}

const PD_SEVERITIES = ['critical', 'error', 'warning', 'info'];

/** PagerDuty Events API v2: POST /v2/enqueue. */
export function pagerduty(): Promise<Stand> {
  return stand((req, problems) => {
    const b = req.body;
    const bad = (why: string): Answer => {
      problems.push(why);
      return { status: 400, body: { status: 'invalid event', message: 'Event object is invalid', errors: [why] } };
    };
    if (req.method !== 'POST' || req.path !== '/v2/enqueue') return bad(`${req.method} ${req.path}: expected POST /v2/enqueue`);
    if (!String(req.headers['content-type']).startsWith('application/json')) return bad('content-type is not application/json');
    onlyKeys(b, ['routing_key', 'event_action', 'dedup_key', 'payload', 'client', 'client_url', 'links', 'images'], 'event', problems);
    if (typeof b.routing_key !== 'string' || b.routing_key.length !== 32) return bad('routing_key must be a 32-character integration key');
    if (!['trigger', 'acknowledge', 'resolve'].includes(String(b.event_action))) return bad(`event_action ${String(b.event_action)}`);
    if (typeof b.dedup_key !== 'string' || !b.dedup_key || b.dedup_key.length > 255) return bad('dedup_key must be a string of at most 255 characters');
    if (b.event_action === 'trigger') {
      const p = b.payload;
      if (!isObj(p)) return bad('a trigger needs a payload');
      onlyKeys(p, ['summary', 'source', 'severity', 'timestamp', 'component', 'group', 'class', 'custom_details'], 'payload', problems);
      if (typeof p.summary !== 'string' || !p.summary || p.summary.length > 1024) return bad('payload.summary must be 1-1024 characters');
      if (typeof p.source !== 'string' || !p.source) return bad('payload.source is required');
      if (!PD_SEVERITIES.includes(String(p.severity))) return bad(`payload.severity ${String(p.severity)}`);
      if (p.timestamp !== undefined && Number.isNaN(Date.parse(String(p.timestamp)))) return bad('payload.timestamp is not ISO 8601');
      if (p.custom_details !== undefined && !isObj(p.custom_details)) return bad('payload.custom_details must be an object');
    } else if (b.payload !== undefined) {
      return bad(`${String(b.event_action)} carries no payload`);
    }
    return { status: 202, body: { status: 'success', message: 'Event processed', dedup_key: b.dedup_key } };
  });
}

/** Slack Web API chat.postMessage with a bot token. */
export function slack(token: string): Promise<Stand> {
  let n = 0;
  return stand((req, problems) => {
    const b = req.body;
    if (req.method !== 'POST' || req.path !== '/api/chat.postMessage') {
      problems.push(`${req.method} ${req.path}: expected POST /api/chat.postMessage`);
      return { status: 404, body: { ok: false, error: 'unknown_method' } };
    }
    if (req.headers.authorization !== `Bearer ${token}`) {
      problems.push(`authorization header ${String(req.headers.authorization)}`);
      return { status: 200, body: { ok: false, error: 'invalid_auth' } };
    }
    if (!String(req.headers['content-type']).startsWith('application/json')) problems.push('content-type is not application/json');
    onlyKeys(b, ['channel', 'text', 'thread_ts', 'reply_broadcast', 'blocks', 'mrkdwn', 'unfurl_links'], 'chat.postMessage', problems);
    if (typeof b.channel !== 'string' || !b.channel) return { status: 200, body: { ok: false, error: 'channel_not_found' } };
    if (typeof b.text !== 'string' || !b.text) return { status: 200, body: { ok: false, error: 'no_text' } };
    if (b.reply_broadcast !== undefined && typeof b.thread_ts !== 'string') problems.push('reply_broadcast without thread_ts');
    if (/<[!@#]/.test(b.text)) problems.push(`unescaped mention or link in text: ${b.text.match(/<[!@#][^>]*>/)?.[0]}`);
    n++;
    return { status: 200, body: { ok: true, channel: b.channel, ts: `1764000000.${String(n).padStart(6, '0')}`, message: { text: b.text } } };
  });
}

/** Opsgenie Alert API v2 with an API integration key. */
export function opsgenie(key: string): Promise<Stand> {
  return stand((req, problems) => {
    const b = req.body;
    const bad = (status: number, why: string): Answer => {
      problems.push(why);
      return { status, body: { message: why, took: 0.001, requestId: randomUUID() } };
    };
    if (req.headers.authorization !== `GenieKey ${key}`) return bad(401, `authorization header ${String(req.headers.authorization)}`);
    if (req.method !== 'POST') return bad(405, `${req.method}: expected POST`);
    const url = new URL(req.path, 'http://x');
    if (url.pathname === '/v2/alerts') {
      onlyKeys(b, ['message', 'alias', 'description', 'responders', 'visibleTo', 'actions', 'tags', 'details', 'entity', 'source', 'priority', 'user', 'note'], 'create alert', problems);
      if (typeof b.message !== 'string' || !b.message || b.message.length > 130) return bad(422, 'message must be 1-130 characters');
      if (b.alias !== undefined && (typeof b.alias !== 'string' || b.alias.length > 512)) return bad(422, 'alias');
      if (b.priority !== undefined && !/^P[1-5]$/.test(String(b.priority))) return bad(422, `priority ${String(b.priority)}`);
      if (b.details !== undefined && (!isObj(b.details) || Object.values(b.details).some((v) => typeof v !== 'string'))) return bad(422, 'details must map strings to strings');
    } else {
      const m = /^\/v2\/alerts\/([^/]+)\/(acknowledge|close|escalate)$/.exec(url.pathname);
      if (!m) return bad(404, `unknown path ${url.pathname}`);
      if (url.searchParams.get('identifierType') !== 'alias') problems.push(`${m[2]} without identifierType=alias`);
      if (m[2] === 'escalate') {
        if (!isObj(b.escalation) || (typeof b.escalation.name !== 'string' && typeof b.escalation.id !== 'string')) return bad(422, 'escalate needs escalation {name|id}');
        onlyKeys(b, ['escalation', 'user', 'source', 'note'], 'escalate', problems);
        onlyKeys(b.escalation, ['id', 'name'], 'escalation', problems);
      } else {
        onlyKeys(b, ['user', 'source', 'note'], m[2], problems);
      }
    }
    if (!String(req.headers['content-type']).startsWith('application/json')) problems.push('content-type is not application/json');
    return { status: 202, body: { result: 'Request will be processed', took: 0.011, requestId: randomUUID() } };
  });
}
