// The evidence download path: HTTP/1.1 responses taken apart by ResponseReader (chunked framing
// split at every byte, extensions, trailers, Content-Length, up-to-close, interim answers, broken
// framing), and download() against the fake API server on loopback, over plain http and over TLS
// with a CA and a bearer token, into a sink that keeps running out of room, through a clumsy
// chunking, a connection cut mid-log and a Status error.

import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { download, ResponseReader, type BodySink } from '../../src/evidence/download.js';
import { HashingFileWriter } from '../../src/evidence/writer.js';
import { Kube, KubeApiError } from '../../src/k8s/kube.js';
import { startFakeKube, type FakeKube } from '../fixtures/kube/server.js';

/** Feeds `raw` to a fresh reader in the pieces `cuts` makes; the body it passed on, and whether it ended. */
function readAll(raw: Buffer, cuts: number[], eof = false): { body: string; done: boolean; status: number } {
  const parts: Buffer[] = [];
  const r = new ResponseReader((b) => {
    parts.push(Buffer.from(b));
    return true;
  });
  let at = 0;
  for (const cut of [...cuts, raw.length]) {
    r.feed(raw, at, cut);
    at = cut;
  }
  if (eof) r.eof();
  return { body: Buffer.concat(parts).toString(), done: r.done, status: r.status };
}

const chunked = (pieces: string[], ext = '', trailer = '') =>
  Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n${pieces.map((p) => `${Buffer.byteLength(p).toString(16)}${ext}\r\n${p}\r\n`).join('')}0\r\n${trailer}\r\n`);

describe('ResponseReader', () => {
  const pieces = ['2026-11-25T07:00:00Z line one\n', 'x', '', 'line three é\n'.repeat(20)].filter(Boolean);
  const body = pieces.join('');

  it('takes chunked framing apart wherever the reads split it: one read, every split point, byte by byte', () => {
    const raw = chunked(pieces, ';name="v"', 'X-Trailer: 1\r\n');
    expect(readAll(raw, [])).toEqual({ body, done: true, status: 200 });
    for (let cut = 1; cut < raw.length; cut++) expect(readAll(raw, [cut]).body, `split at ${cut}`).toBe(body);
    expect(readAll(raw, Array.from({ length: raw.length - 1 }, (_, i) => i + 1))).toEqual({ body, done: true, status: 200 });
  });

  it('does not end a chunked body before its last chunk, and ignores what follows it', () => {
    const raw = chunked(pieces);
    expect(readAll(raw.subarray(0, raw.length - 2), [], true).done).toBe(false);
    expect(readAll(Buffer.concat([raw, Buffer.from('HTTP/1.1 200 OK\r\n')]), [])).toEqual({ body, done: true, status: 200 });
  });

  it('reads a Content-Length body exactly, and a body without either up to the end of the connection', () => {
    const len = Buffer.from(`HTTP/1.1 200 OK\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}extra`);
    expect(readAll(len, [17, 60])).toEqual({ body, done: true, status: 200 });
    const close = Buffer.from(`HTTP/1.0 200 OK\r\nConnection: close\r\n\r\n${body}`);
    expect(readAll(close, [5])).toEqual({ body, done: false, status: 200 });
    expect(readAll(close, [5], true)).toEqual({ body, done: true, status: 200 });
  });

  it('passes over an interim 100 Continue to the real answer, and keeps a non-200 status for its error', () => {
    const raw = Buffer.concat([Buffer.from('HTTP/1.1 100 Continue\r\n\r\n'), chunked(['ok'])]);
    expect(readAll(raw, [10, 30])).toEqual({ body: 'ok', done: true, status: 200 });
    expect(readAll(Buffer.from('HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}'), [])).toEqual({ body: '{}', done: true, status: 404 });
  });

  it('refuses broken framing and a head that is not HTTP, in one line each', () => {
    const bad = (text: string) => () => readAll(Buffer.from(text), []);
    expect(bad('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n')).toThrow(/bad chunked encoding.*chunk size/);
    expect(bad('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n')).toThrow(/bad chunked encoding.*CRLF/);
    expect(bad('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000\r\n')).toThrow(/chunk size too large/);
    expect(bad('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nab')).toThrow(/bad Content-Length/);
    expect(bad('SSH-2.0-OpenSSH\r\n\r\n')).toThrow(/not an HTTP\/1.1 response/);
  });

  it('stops where the body asks it to, and goes on from there', () => {
    const raw = chunked(['abc', 'def']);
    const got: string[] = [];
    let stop = true;
    const r = new ResponseReader((b) => {
      got.push(b.toString());
      const go = !stop;
      stop = !stop;
      return go;
    });
    let at = 0;
    while (!r.done) at = r.feed(raw, at, raw.length);
    expect(got).toEqual(['abc', 'def']);
  });
});

/** A sink that copies what it takes and, every other take, has no room until a timer says so. */
function stingySink(): BodySink & { bytes: () => Buffer; waits: number } {
  const parts: Buffer[] = [];
  let n = 0;
  const sink = {
    waits: 0,
    bytes: () => Buffer.concat(parts),
    take(bytes: Buffer, cb: (err?: Error | null) => void): boolean {
      parts.push(Buffer.from(bytes));
      if (n++ % 2 === 0) return true;
      sink.waits++;
      setTimeout(() => cb(), 1);
      return false;
    },
  };
  return sink;
}

const linesOf = (count: number, width: number) => Array.from({ length: count }, (_, i) => ({ ts: new Date(Date.now() - 1000 + i).toISOString(), text: `level=info seq=${i} ${'ü'.repeat(i % width)}` }));
const logText = (lines: { ts: string; text: string }[]) => lines.map((l) => `${l.ts} ${l.text}\n`).join('');
const podFor = (name: string) => ({ metadata: { name, namespace: 'shop', labels: { app: 'api' } }, spec: { containers: [{ name: 'api' }] } });

describe('download', () => {
  const lines = linesOf(3000, 50);
  const text = logText(lines);
  let plain: FakeKube;
  let secure: FakeKube;
  const signal = new AbortController().signal;
  const logPath = '/api/v1/namespaces/shop/pods/api-0/log';
  const query = { container: 'api', timestamps: true, sinceSeconds: 3600 };

  beforeAll(async () => {
    const data = {
      namespace: 'shop',
      pods: ['api-0', 'api-odd', 'api-cut'].map(podFor),
      logs: {
        'shop/api-0/api': lines,
        'shop/api-odd/api': { lines, chunkBytes: [1, 7, 0x1000, 3, 65536 + 5] },
        'shop/api-cut/api': { lines, dropAfter: 100_000 },
      },
    };
    plain = await startFakeKube(data);
    secure = await startFakeKube({ ...data, tls: true, token: 'sekrit-token-0123' });
  });
  afterAll(async () => {
    await plain.stop();
    await secure.stop();
  });

  it('streams a pod log byte for byte over plain http, into a sink that keeps running out of room', async () => {
    const kube = await Kube.load({ kubeconfig: plain.kubeconfigPath, env: {} });
    const sink = stingySink();
    await download(kube, logPath, query, sink, signal);
    expect(sink.bytes().toString()).toBe(text);
    expect(sink.waits).toBeGreaterThan(0);
    expect(plain.requests.at(-1)).toMatchObject({ path: logPath, query: { container: 'api', timestamps: 'true', sinceSeconds: '3600' } });
  });

  it('takes apart odd HTTP chunk sizes (1, 7, 4096, 3, 64 KiB + 5 bytes in turn)', async () => {
    const kube = await Kube.load({ kubeconfig: plain.kubeconfigPath, env: {} });
    const sink = stingySink();
    await download(kube, '/api/v1/namespaces/shop/pods/api-odd/log', query, sink, signal);
    expect(sink.bytes().toString()).toBe(text);
  });

  it('over TLS: verifies the server against the kubeconfig CA, sends the bearer token, and writes the file with the right sha256', async () => {
    const kube = await Kube.load({ kubeconfig: secure.kubeconfigPath, env: {} });
    const dir = mkdtempSync(join(tmpdir(), 'ir-download-'));
    try {
      const w = new HashingFileWriter(join(dir, 'api.log'));
      await download(kube, logPath, query, w, signal);
      const { bytes, sha256 } = await w.finish();
      const disk = readFileSync(join(dir, 'api.log'));
      expect(disk.toString()).toBe(text);
      expect({ bytes, sha256 }).toEqual({ bytes: disk.length, sha256: createHash('sha256').update(disk).digest('hex') });

      // Another CA: the certificate is refused, nothing is read.
      const other = join(dir, 'kubeconfig');
      const self = await startFakeKube({ tls: true });
      writeFileSync(other, readFileSync(secure.kubeconfigPath, 'utf8').replace(/certificate-authority-data: \S+/, `certificate-authority-data: ${self.caCert!.toString('base64')}`));
      await self.stop();
      const wrong = await Kube.load({ kubeconfig: other, env: {} });
      const sink = stingySink();
      await expect(download(wrong, logPath, query, sink, signal)).rejects.toThrow(/certificate|self.signed/i);
      expect(sink.bytes().length).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a connection cut mid-log rejects in one line naming it, and what arrived stays in the sink', async () => {
    const kube = await Kube.load({ kubeconfig: plain.kubeconfigPath, env: {} });
    const sink = stingySink();
    await expect(download(kube, '/api/v1/namespaces/shop/pods/api-cut/log', query, sink, signal)).rejects.toThrow(/^the connection to 127\.0\.0\.1:\d+ closed before the response ended \(100000 bytes of body received\)$/);
    expect(sink.bytes().equals(Buffer.from(text).subarray(0, 100_000))).toBe(true);
  });

  it("a non-200 answer rejects with the server's Status message; an aborted one with the abort's reason", async () => {
    const kube = await Kube.load({ kubeconfig: plain.kubeconfigPath, env: {} });
    const err = await download(kube, '/api/v1/namespaces/shop/pods/api-0/log', { container: 'nope' }, stingySink(), signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect((err as KubeApiError).message).toBe('400 container nope is not valid for pod api-0');
    const stop = new AbortController();
    stop.abort(new Error('timed out after 1s'));
    await expect(download(kube, logPath, query, stingySink(), stop.signal)).rejects.toThrow('timed out after 1s');
  });

  it("behind the cluster's proxy-url: goes through client-node's proxy agent, and the body arrives whole", async () => {
    const seen: string[] = [];
    // A CONNECT proxy on loopback (hpagent tunnels plain http through CONNECT too).
    const proxy = createServer((_req, res) => res.writeHead(405).end());
    proxy.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
      seen.push(`CONNECT ${req.url}`);
      const [host, port] = req.url!.split(':');
      const up = connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        up.write(head);
        up.pipe(client).on('error', () => up.destroy());
        client.pipe(up).on('error', () => client.destroy());
      });
      up.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const dir = mkdtempSync(join(tmpdir(), 'ir-download-'));
    try {
      const path = join(dir, 'kubeconfig');
      writeFileSync(path, readFileSync(plain.kubeconfigPath, 'utf8').replace(/( +)server: (\S+)/, `$1server: $2\n$1proxy-url: http://127.0.0.1:${(proxy.address() as AddressInfo).port}`));
      const kube = await Kube.load({ kubeconfig: path, env: {} });
      const w = new HashingFileWriter(join(dir, 'api.log'));
      await download(kube, '/api/v1/namespaces/shop/pods/api-odd/log', query, w, signal);
      const { sha256 } = await w.finish();
      expect(readFileSync(join(dir, 'api.log'), 'utf8')).toBe(text);
      expect(sha256).toBe(createHash('sha256').update(text).digest('hex'));
      expect(seen).toEqual([`CONNECT ${new URL(plain.url).host}`]);
      expect(plain.requests.at(-1)).toMatchObject({ path: '/api/v1/namespaces/shop/pods/api-odd/log' });
    } finally {
      proxy.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a token that is refused is a 401 with the Status message, over TLS', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ir-download-')), 'kubeconfig');
    writeFileSync(path, readFileSync(secure.kubeconfigPath, 'utf8').replace('sekrit-token-0123', 'wrong-token'));
    const kube = await Kube.load({ kubeconfig: path, env: {} });
    await expect(download(kube, logPath, query, stingySink(), signal)).rejects.toThrow('401 Unauthorized');
    rmSync(join(path, '..'), { recursive: true, force: true });
  });
});
