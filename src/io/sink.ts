// Output written piece by piece for results too long to hold at once (a timeline of a million
// events): pieces are gathered into chunks, and a chunk the reader has not taken yet is waited for.

import { closeSync, openSync, writeSync } from 'node:fs';
import type { OutStream } from './streams.js';

/**
 * Bytes gathered before a write: a million rows are about 1,500 writes, and a freed chunk is reused
 * by malloc rather than left mapped (256 KiB chunks cost a few MiB more peak RSS).
 */
const CHUNK = 64 * 1024;

export class Sink {
  // Text is encoded straight into the chunk as it comes: no list of pieces to join, and no second
  // copy when the stream turns the joined text into bytes.
  private chunk = Buffer.allocUnsafeSlow(CHUNK);
  private used = 0;
  /** Full chunks (and pieces too large for one) waiting to be handed to the stream. */
  private ready: (Uint8Array | string)[] = [];

  constructor(private readonly out: OutStream) {}

  /** Adds text; waits when the stream asks to (a slow pipe), so memory stays bounded. */
  async write(text: string): Promise<void> {
    if (this.add(text)) await this.drain();
  }

  /**
   * Adds text without waiting; true when a chunk is full and the caller should `await drain()`
   * before adding much more. For loops of a million rows, where an await per row costs more than
   * the row.
   */
  add(text: string): boolean {
    const room = CHUNK - this.used;
    // UTF-8 takes at most 3 bytes per UTF-16 unit; the exact count only near the chunk's end.
    if (text.length * 3 <= room || Buffer.byteLength(text) <= room) {
      this.used += this.chunk.write(text, this.used);
      return false;
    }
    this.seal();
    if (text.length * 3 > CHUNK) this.ready.push(text);
    else this.used = this.chunk.write(text, 0);
    return true;
  }

  /** Adds bytes already encoded (a helper thread's rendering), as they are; `await drain()` after. */
  addBytes(bytes: Uint8Array): void {
    this.seal();
    if (bytes.length) this.ready.push(bytes);
  }

  /** Hands full chunks to the stream, waiting while it asks to. */
  async drain(): Promise<void> {
    while (this.ready.length) {
      const piece = this.ready.shift()!;
      if (!this.out.write(piece) && this.out.drained) await this.out.drained();
    }
  }

  /** Hands everything added so far to the stream. */
  async flush(): Promise<void> {
    this.seal();
    await this.drain();
  }

  private seal(): void {
    if (!this.used) return;
    this.ready.push(this.chunk.subarray(0, this.used));
    // A stream may hold the bytes until its reader takes them: the next chunk is a new buffer.
    this.chunk = Buffer.allocUnsafeSlow(CHUNK);
    this.used = 0;
  }
}

/** A file as an OutStream: plain synchronous writes, which never queue. Close with `close()`. */
export function fileStream(path: string, mode?: number): OutStream & { close(): void } {
  const fd = openSync(path, 'w', mode);
  return {
    write: (chunk) => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at);
      return true;
    },
    close: () => closeSync(fd),
  };
}

/** Items stringified together: one JSON.stringify call per batch rather than one per item. */
const JSON_BATCH = 32;

/**
 * Writes `{...doc, [key]: [items…]}` exactly as `JSON.stringify(…, null, 2)` would, plus a newline,
 * without holding the array: the document's other fields first, then the items a batch at a time.
 */
export async function writeJsonWithArray(sink: Sink, doc: Record<string, unknown>, key: string, items: AsyncIterable<unknown> | Iterable<unknown>): Promise<void> {
  async function* batches() {
    let batch: unknown[] = [];
    for await (const item of items) {
      batch.push(item);
      if (batch.length === JSON_BATCH) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length) yield batch;
  }
  await writeJsonWithPages(sink, doc, key, batches());
}

/** The same, for items that come a page at a time (`Store.eventPages`). */
export async function writeJsonWithPages(sink: Sink, doc: Record<string, unknown>, key: string, pages: AsyncIterable<readonly unknown[]>): Promise<void> {
  await sink.write(jsonArrayOpen(doc, key));
  let any = false;
  for await (const page of pages) {
    for (let at = 0; at < page.length; at += JSON_BATCH) {
      // A batch nested two arrays deep is stringified with the items' own indentation (four spaces)
      // and the separators the whole document has between them: "[\n  [" + items + "\n  ]\n]".
      const text = JSON.stringify([at === 0 && page.length <= JSON_BATCH ? page : page.slice(at, at + JSON_BATCH)], null, 2);
      if (sink.add(`${any ? ',' : ''}${text.slice(5, -6)}`)) await sink.drain();
      any = true;
    }
  }
  await sink.write(jsonArrayClose(any));
  await sink.flush();
}

/** `{...doc, [key]: [` as `JSON.stringify(…, null, 2)` begins it: the text before the array's first item. */
export function jsonArrayOpen(doc: Record<string, unknown>, key: string): string {
  const head = JSON.stringify(doc, null, 2);
  return head === '{}' ? `{\n  ${JSON.stringify(key)}: [` : `${head.slice(0, -2)},\n  ${JSON.stringify(key)}: [`;
}

/** The text after the array's last item (`any`: the array has items), and a newline. */
export function jsonArrayClose(any: boolean): string {
  return any ? '\n  ]\n}\n' : ']\n}\n';
}
