// A file written as a stream and hashed as it is written: nothing is held whole in memory, and the
// sha256 describes exactly the bytes that reached the file. Evidence files are created 0600 in
// 0700 directories and never overwritten.

import { createHash, type Hash } from 'node:crypto';
import { close, mkdirSync, openSync, writev } from 'node:fs';
import { dirname } from 'node:path';
import { Writable } from 'node:stream';
import { streamed } from './gc.js';

export class HashingFileWriter extends Writable {
  readonly path: string;
  bytes = 0;
  private readonly hash: Hash = createHash('sha256');
  private fd: number | undefined;
  private inflight?: Promise<void>;
  private digest?: string;
  /** Called with the running byte count after each write (progress display). */
  onBytes?: (bytes: number) => void;
  /** The first write error, if any; a late write after a timeout cut the file off lands here too. */
  failure?: Error;

  constructor(path: string) {
    // Large buffers: pod logs arrive in 16-64 KiB chunks and writev batches what queues up.
    super({ highWaterMark: 1024 * 1024 });
    this.path = path;
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // 'wx': evidence is never overwritten, even by a second collector of the same name.
    this.fd = openSync(path, 'wx', 0o600);
    // Errors are reported through finish() and `failure`, never as an unhandled 'error' event.
    this.on('error', (err) => (this.failure ??= err));
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this._writev([{ chunk }], cb);
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    if (this.fd === undefined) return cb(new Error(`${this.path} is already closed`));
    const bufs = chunks.map((c) => c.chunk);
    const fd = this.fd;
    let settle!: () => void;
    this.inflight = new Promise<void>((resolve) => (settle = resolve));
    const doneWith = (err?: Error | null) => {
      this.inflight = undefined;
      settle();
      cb(err);
    };
    const writeAll = (list: Buffer[]) => {
      writev(fd, list, (err, written) => {
        if (err) return doneWith(err);
        // Hash what actually landed, in order; a short write continues from where it stopped.
        let left = written;
        const rest: Buffer[] = [];
        for (const b of list) {
          if (left >= b.length) {
            this.hash.update(b);
            this.bytes += b.length;
            left -= b.length;
          } else {
            if (left > 0) {
              this.hash.update(b.subarray(0, left));
              this.bytes += left;
            }
            rest.push(b.subarray(left));
            left = 0;
          }
        }
        this.onBytes?.(this.bytes);
        streamed(written);
        if (rest.length) writeAll(rest);
        else doneWith();
      });
    };
    writeAll(bufs);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.closeFd(cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.closeFd(() => cb(err));
  }

  private closeFd(cb: (err?: Error | null) => void): void {
    // Never close under a write in flight: the number could be reused and the write land elsewhere.
    if (this.inflight) {
      void this.inflight.then(() => this.closeFd(cb));
      return;
    }
    if (this.fd === undefined) return cb();
    const fd = this.fd;
    this.fd = undefined;
    close(fd, (err) => cb(err));
  }

  /**
   * Ends the file and returns its final size and hash. Safe to call after an error or abort: the
   * file keeps what was written, and the hash covers exactly that.
   */
  async finish(): Promise<{ bytes: number; sha256: string }> {
    if (!this.digest) {
      if (!this.closed) {
        await new Promise<void>((resolve) => {
          this.once('close', () => resolve());
          if (!this.destroyed && !this.writableEnded) this.end();
        });
      }
      await new Promise<void>((resolve) => this.closeFd(() => resolve()));
      this.digest = this.hash.digest('hex');
    }
    return { bytes: this.bytes, sha256: this.digest };
  }
}
