// Output written piece by piece for results too long to hold at once (a timeline of a million
// events): pieces are gathered into chunks, and a chunk the reader has not taken yet is waited for.

import { closeSync, openSync, writeSync } from 'node:fs';
import type { OutStream } from './streams.js';

/** Bytes gathered before a write: large enough that a million rows are a few hundred writes. */
const CHUNK = 256 * 1024;

export class Sink {
  private parts: string[] = [];
  private size = 0;

  constructor(private readonly out: OutStream) {}

  /** Adds text; waits when the stream asks to (a slow pipe), so memory stays bounded. */
  async write(text: string): Promise<void> {
    this.parts.push(text);
    this.size += text.length;
    if (this.size >= CHUNK) await this.flush();
  }

  async flush(): Promise<void> {
    if (!this.size) return;
    const text = this.parts.join('');
    this.parts = [];
    this.size = 0;
    if (!this.out.write(text) && this.out.drained) await this.out.drained();
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

/**
 * Writes `{...doc, [key]: [items…]}` exactly as `JSON.stringify(…, null, 2)` would, plus a newline,
 * without holding the array: the document's other fields first, then each item as it comes.
 */
export async function writeJsonWithArray(sink: Sink, doc: Record<string, unknown>, key: string, items: AsyncIterable<unknown> | Iterable<unknown>): Promise<void> {
  const head = JSON.stringify(doc, null, 2);
  await sink.write(head === '{}' ? `{\n  ${JSON.stringify(key)}: [` : `${head.slice(0, -2)},\n  ${JSON.stringify(key)}: [`);
  let any = false;
  for await (const item of items) {
    await sink.write(`${any ? ',' : ''}\n    ${JSON.stringify(item ?? null, null, 2).replace(/\n/g, '\n    ')}`);
    any = true;
  }
  await sink.write(any ? '\n  ]\n}\n' : ']\n}\n');
  await sink.flush();
}
