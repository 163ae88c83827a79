// One Kubernetes API GET streamed straight into an evidence file: HTTP/1.1 over a socket (TLS or,
// where the kubeconfig allows it, plain) that reads into one reused buffer, with the response's
// framing (Content-Length, chunked, or up to the close) taken apart here.
//
// Why not node:http for the logs: its client hands every 64 KiB socket read to JavaScript and
// copies each piece of body into a freshly allocated Buffer (which the writer then copies again
// into its slots). For a pod log of gigabytes that costs more CPU than the sha256 itself; reading
// up to a megabyte at a time into one buffer costs almost nothing. The request is the one
// client-node sets up (Kube.prepare: TLS material, tokens, exec credentials, basic auth); a cluster
// behind a proxy-url goes through client-node's agent and node:http as before.

import { connect as connectTcp, isIP, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import { apiError, type Kube } from '../k8s/kube.js';

/**
 * Where the body goes: true when the bytes are copied in and more may come; false when `cb` will
 * say that (or has said why not: an error).
 */
export interface BodySink {
  take(bytes: Buffer, cb: (err?: Error | null) => void): boolean;
}

/** Bytes asked of the socket per read: big reads are few reads, and few trips into JavaScript. */
const READ_BYTES = 512 * 1024;
/** A response head bigger than this is not an API server's. */
const HEAD_LIMIT = 64 * 1024;
/** Of an error response, the part kept for its Status message. */
const ERROR_BODY_LIMIT = 64 * 1024;

const enum Chunk {
  Size,
  Ext,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  TrailerStart,
  Trailer,
  EndLf,
}

const CR = 13;
const LF = 10;

/** HTTP/1.1 response bytes in, body bytes out; knows when the response has ended. */
export class ResponseReader {
  status = 0;
  statusText = '';
  /** The whole response has arrived. */
  done = false;
  /** Body bytes passed on. */
  bodyBytes = 0;
  private head: Buffer | undefined = Buffer.alloc(0);
  private framing: 'length' | 'chunked' | 'close' = 'close';
  private left = 0;
  private chunk = Chunk.Size;
  private sizeDigits = 0;

  /**
   * @param body receives each run of body bytes (a view of `buf`, valid only during the call);
   * returns false to stop reading here (the reader returns the offset it stopped at).
   */
  constructor(private readonly body: (bytes: Buffer) => boolean) {}

  /** Reads `buf[from..to)`; returns where it stopped (`to` unless the body asked it to stop). */
  feed(buf: Buffer, from: number, to: number): number {
    let i = from;
    if (this.head) {
      i = this.readHead(buf, from, to);
      if (this.head) return to;
    }
    while (i < to && !this.done) {
      if (this.framing === 'close' || this.framing === 'length') {
        const n = this.framing === 'length' ? Math.min(this.left, to - i) : to - i;
        const end = i + n;
        this.left -= n;
        if (this.framing === 'length' && this.left === 0) this.done = true;
        if (!this.pass(buf, i, end)) return end;
        i = end;
        continue;
      }
      if (this.chunk === Chunk.Data) {
        const end = i + Math.min(this.left, to - i);
        this.left -= end - i;
        if (this.left === 0) this.chunk = Chunk.DataCr;
        if (!this.pass(buf, i, end)) return end;
        i = end;
        continue;
      }
      this.framingByte(buf[i++]);
    }
    return i;
  }

  /** The connection ended: with 'close' framing that is the end of the body. */
  eof(): void {
    if (!this.head && this.framing === 'close') this.done = true;
  }

  private pass(buf: Buffer, from: number, to: number): boolean {
    if (to === from) return true;
    this.bodyBytes += to - from;
    return this.body(buf.subarray(from, to));
  }

  private framingByte(c: number): void {
    switch (this.chunk) {
      case Chunk.Size: {
        const d = hexDigit(c);
        if (d >= 0) {
          if (++this.sizeDigits > 12) throw new Error('bad chunked encoding in the response: chunk size too large');
          this.left = this.left * 16 + d;
        } else if (this.sizeDigits && (c === 0x3b || c === 0x20 || c === 0x09)) this.chunk = Chunk.Ext;
        else if (this.sizeDigits && c === CR) this.chunk = Chunk.SizeLf;
        else throw new Error('bad chunked encoding in the response: expected a chunk size');
        return;
      }
      case Chunk.Ext:
        if (c === CR) this.chunk = Chunk.SizeLf;
        return;
      case Chunk.SizeLf:
        expect(c, LF);
        this.sizeDigits = 0;
        this.chunk = this.left === 0 ? Chunk.TrailerStart : Chunk.Data;
        return;
      case Chunk.DataCr:
        expect(c, CR);
        this.chunk = Chunk.DataLf;
        return;
      case Chunk.DataLf:
        expect(c, LF);
        this.chunk = Chunk.Size;
        return;
      case Chunk.TrailerStart:
        this.chunk = c === CR ? Chunk.EndLf : Chunk.Trailer;
        return;
      case Chunk.Trailer:
        if (c === LF) this.chunk = Chunk.TrailerStart;
        return;
      case Chunk.EndLf:
        expect(c, LF);
        this.done = true;
        return;
      default:
        throw new Error('bad chunked encoding in the response');
    }
  }

  /** Gathers the status line and headers; returns where the body starts once they are complete. */
  private readHead(buf: Buffer, from: number, to: number): number {
    const before = this.head!.length;
    const head = Buffer.concat([this.head!, buf.subarray(from, Math.min(to, from + HEAD_LIMIT + 4))]);
    const end = head.indexOf('\r\n\r\n', Math.max(0, before - 3));
    if (end < 0) {
      if (head.length > HEAD_LIMIT) throw new Error(`the response head is over ${HEAD_LIMIT} bytes`);
      this.head = head;
      return to;
    }
    const lines = head.subarray(0, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0]);
    if (!m) throw new Error(`not an HTTP/1.1 response: ${JSON.stringify(lines[0].slice(0, 80))}`);
    const status = Number(m[1]);
    const rest = from + (end + 4 - before);
    // An interim answer (100 Continue): the real one follows.
    if (status >= 100 && status < 200) {
      this.head = Buffer.alloc(0);
      return rest < to ? this.readHead(buf, rest, to) : to;
    }
    this.status = status;
    this.statusText = m[2] ?? '';
    this.head = undefined;
    let length: number | undefined;
    let chunked = false;
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Error(`bad header line in the response: ${JSON.stringify(line.slice(0, 80))}`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'transfer-encoding') chunked = /(?:^|,)\s*chunked\s*$/i.test(value);
      else if (name === 'content-length') {
        if (!/^\d+$/.test(value) || (length !== undefined && length !== Number(value))) throw new Error(`bad Content-Length in the response: ${value}`);
        length = Number(value);
      }
    }
    if (chunked) this.framing = 'chunked';
    else if (length !== undefined) {
      this.framing = 'length';
      this.left = length;
      if (length === 0) this.done = true;
    }
    return rest;
  }
}

const hexDigit = (c: number): number => (c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1);

function expect(c: number, want: number): void {
  if (c !== want) throw new Error('bad chunked encoding in the response: missing CRLF');
}

/** The request head: the headers client-node set, the host, and one request per connection. */
function requestHead(url: URL, headers: Record<string, string | string[] | number>, auth: string | undefined): string {
  const lines = [`GET ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`];
  const all: [string, string][] = [];
  for (const [k, v] of Object.entries(headers)) for (const one of Array.isArray(v) ? v : [v]) all.push([k, String(one)]);
  if (auth !== undefined && !all.some(([k]) => k.toLowerCase() === 'authorization')) all.push(['Authorization', `Basic ${Buffer.from(auth).toString('base64')}`]);
  for (const [k, v] of all) {
    if (!/^[!#$%&'*+.^_`|~\w-]+$/.test(k) || /[\r\n\0]/.test(v)) throw new Error(`the kubeconfig gives an invalid HTTP header (${k})`);
    if (k.toLowerCase() === 'host' || k.toLowerCase() === 'connection') continue;
    lines.push(`${k}: ${v}`);
  }
  lines.push('Connection: close', '', '');
  return lines.join('\r\n');
}

/**
 * GETs an API path into `sink`. Resolves once the whole body is in the sink; rejects with the
 * server's Status message on a non-200 answer, with `signal.reason` when aborted, and when the
 * connection fails or ends before the response does. What reached the sink stays there.
 */
export async function download(kube: Kube, path: string, query: Record<string, string | number | boolean | undefined>, sink: BodySink, signal: AbortSignal): Promise<void> {
  const { url, opts, proxied } = await kube.prepare(path, query);
  if (proxied) {
    // The proxy's agent owns the connection; node:http is the one client that speaks to it.
    const { pipeline } = await import('node:stream/promises');
    const { Writable } = await import('node:stream');
    const res = await kube.get(path, query, signal);
    await pipeline(res, new Writable({ write: (chunk: Buffer, _e, cb) => void (sink.take(chunk, cb) && cb()) }));
    return;
  }
  if (signal.aborted) throw signal.reason;
  const tls = url.protocol === 'https:';
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(url.port) || (tls ? 443 : 80);
  const request = requestHead(url, opts.headers, opts.auth ?? undefined);

  return new Promise<void>((resolve, reject) => {
    const buffer = Buffer.allocUnsafeSlow(READ_BYTES);
    let errorBody = '';
    /** Bytes read but not yet passed on, while the sink has no room (a copy: `buffer` is reused). */
    let held: Buffer | undefined;
    let heldAt = 0;
    let waiting = false;
    let settled = false;

    const finish = (err?: unknown) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      if (err !== undefined) reject(err);
      else if (reader.status !== 200) reject(apiError(reader.status, reader.statusText, errorBody));
      else resolve();
    };
    const onAbort = () => finish(signal.reason);
    /** The connection ended (or closed) while bytes were held: handled once they are in. */
    let ended = false;
    const endOfStream = () => {
      reader.eof();
      if (reader.done) return finish();
      finish(new Error(`the connection to ${url.host} closed before the response ended (${reader.bodyBytes} bytes of body received)`));
    };
    const resumed = (err?: Error | null) => {
      if (err) return finish(err);
      waiting = false;
      if (held) {
        const b = held;
        held = undefined;
        if (!run(b, heldAt, b.length)) return;
      }
      if (reader.done) return finish();
      if (ended) return endOfStream();
      socket.resume();
    };
    const reader = new ResponseReader((bytes) => {
      if (reader.status !== 200) {
        if (errorBody.length < ERROR_BODY_LIMIT) errorBody += bytes.toString('utf8');
        return true;
      }
      if (sink.take(bytes, resumed)) return true;
      waiting = true;
      return false;
    });
    /** Feeds bytes to the reader; false while the sink has no room (the rest is held). */
    const run = (buf: Buffer, from: number, to: number): boolean => {
      let at: number;
      try {
        at = reader.feed(buf, from, to);
      } catch (err) {
        finish(err);
        return false;
      }
      if (waiting) {
        if (at < to) {
          held = buf === buffer ? Buffer.from(buf.subarray(at, to)) : buf;
          heldAt = buf === buffer ? 0 : at;
        }
        return false;
      }
      if (reader.done) finish();
      return !reader.done;
    };

    const onread = {
      buffer,
      callback: (n: number, buf: Uint8Array): boolean => {
        if (settled) return false;
        const b = buf as Buffer;
        if (waiting) {
          // Already asked to stop: keep this read aside with what is held.
          held = Buffer.concat([held ? held.subarray(heldAt) : Buffer.alloc(0), b.subarray(0, n)]);
          heldAt = 0;
          return false;
        }
        return run(b, 0, n);
      },
    };
    const servername = opts.servername ?? (isIP(host) ? undefined : host);
    // Declared after the callbacks that use it, which run only once it exists.
    const socket: Socket = tls
      ? connectTls({
          host,
          port,
          servername,
          ca: opts.ca,
          cert: opts.cert,
          key: opts.key,
          pfx: opts.pfx,
          passphrase: opts.passphrase,
          ...(opts.rejectUnauthorized !== undefined ? { rejectUnauthorized: opts.rejectUnauthorized } : {}),
          // tls.connect takes onread as net.connect does (documented); @types/node leaves it out.
          ...({ onread } as ConnectionOptions),
        })
      : connectTcp({ host, port, onread });
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('error', (err) => finish(err));
    const onEnd = () => {
      if (settled) return;
      ended = true;
      if (!waiting) endOfStream();
    };
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.write(request);
  });
}
