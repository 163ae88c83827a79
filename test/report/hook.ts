// A stand-in for a Slack incoming webhook on loopback: records every POST and answers each with the
// next status of its script (the last one repeats).

import { createServer, type IncomingMessage, type Server } from 'node:http';

export interface Hook {
  url: string;
  bodies: { method?: string; type?: string; body: { text: string } }[];
  close(): Promise<void>;
}

export async function hook(script: number[] = [200]): Promise<Hook> {
  const bodies: Hook['bodies'] = [];
  const state = { script: [...script] };
  const server: Server = createServer((req: IncomingMessage, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', () => {
      bodies.push({ method: req.method, type: req.headers['content-type'], body: JSON.parse(raw) });
      const status = state.script.length > 1 ? state.script.shift()! : state.script[0];
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status === 200 ? 'ok' : 'internal_error');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address() as { port: number };
  return { url: `http://127.0.0.1:${addr.port}/services/T000/B000/XXXX`, bodies, close: () => new Promise((r) => server.close(() => r())) };
}
