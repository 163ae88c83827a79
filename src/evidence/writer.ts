// A file written as a stream and hashed as it is written: nothing is held whole in memory, and the
// sha256 describes exactly the bytes that reached the file. Evidence files are created 0600 in
// 0700 directories and never overwritten.
//
// Why staged, direct writes: a pod log is gigabytes written once and read rarely. Through the page
// cache every byte costs a fresh page of memory (the dearest part of writing on a virtual machine,
// and cache the incident's own services lose), so bytes are gathered into page-aligned slots and
// each full slot goes to the disk with O_DIRECT; the tail, small files, and any file system that
// refuses O_DIRECT go through the ordinary descriptor. Slot boundaries are fixed in the file (slot
// i covers bytes [i·SLOT, (i+1)·SLOT)), so a slot whose first part was already written (a slow
// stream flushed while idle) is rewritten whole, identically, and only its new part is hashed.

import { createHash, type Hash } from 'node:crypto';
import { close, constants, mkdirSync, openSync, write } from 'node:fs';
import { dirname } from 'node:path';
import { Writable } from 'node:stream';
import { streamed } from './gc.js';

/** Bytes per slot: one O_DIRECT write. Two slots per open file: one filling while one is written. */
const SLOT = 2 * 1024 * 1024;
/** A slow stream's staged bytes reach the disk (and the progress line) after this long idle. */
const IDLE_FLUSH_MS = 100;
/** Slot pairs kept for the next file, so several logs in a row reuse the same touched pages. */
const SPARE_PAIRS = 8;

interface Slot {
  mem: Buffer;
  /** Where the slot's first byte goes in the file (a multiple of SLOT). */
  base: number;
  /** Bytes staged in the slot. */
  len: number;
  /** Of those, bytes already in the file and hashed. */
  landed: number;
}

interface WasmMemory {
  buffer: ArrayBuffer;
}
type WasmMemoryCtor = new (d: { initial: number; maximum: number }) => WasmMemory;

const spare: Buffer[][] = [];

function takeSlots(): Buffer[] {
  const pair = spare.pop();
  if (pair) return pair;
  // WebAssembly memory is mapped whole by V8, so it starts on a page boundary as O_DIRECT needs;
  // ordinary Buffers come from malloc, whose header puts them off the boundary. Without it (a
  // --jitless node) the first direct write fails with EINVAL and the file goes through the cache.
  const Memory = (globalThis as { WebAssembly?: { Memory: WasmMemoryCtor } }).WebAssembly?.Memory;
  if (Memory) {
    try {
      const pages = (2 * SLOT) / 65536;
      const { buffer } = new Memory({ initial: pages, maximum: pages });
      return [Buffer.from(buffer, 0, SLOT), Buffer.from(buffer, SLOT, SLOT)];
    } catch {
      /* no room to map it: plain buffers below */
    }
  }
  return [Buffer.allocUnsafeSlow(SLOT), Buffer.allocUnsafeSlow(SLOT)];
}

/** A second descriptor on the same file (not the same path) that bypasses the page cache, if possible. */
function openDirect(fd: number): number | null {
  const flag = (constants as { O_DIRECT?: number }).O_DIRECT;
  if (process.platform !== 'linux' || !flag) return null;
  try {
    return openSync(`/proc/self/fd/${fd}`, constants.O_WRONLY | flag);
  } catch {
    return null;
  }
}

export class HashingFileWriter extends Writable {
  readonly path: string;
  bytes = 0;
  private hash: Hash = createHash('sha256');
  /** Where in the file `hash` has reached: past the landed bytes while a write is in flight. */
  private hashedTo = 0;
  /** The hash as it was when it went past the landed bytes (where: `at`), to go back to if the write fails. */
  private behind?: { hash: Hash; at: number };
  private fd: number | undefined;
  /** undefined: not tried yet; null: this file goes through the page cache. */
  private direct: number | null | undefined;
  private digest?: string;
  /** Called with the running byte count after each write (progress display). */
  onBytes?: (bytes: number) => void;
  /** The first write error, if any; a late write after a timeout cut the file off lands here too. */
  failure?: Error;

  private pair?: Buffer[];
  private free: Slot[] = [];
  private filling?: Slot;
  /** Full slots waiting for the disk, in file order. */
  private pending: Slot[] = [];
  private nextBase = 0;
  private writing = false;
  /** Write the filling slot's staged bytes too (idle, or closing). */
  private flushWanted = false;
  private closing = false;
  private broken?: Error;
  /** A write waiting for a slot to come back from the disk: the rest of `list` from `at`/`off`. */
  private blocked?: { list: Buffer[]; at: number; off: number; cb: (err?: Error | null) => void };
  private idleTimer?: NodeJS.Timeout;
  private idleWaiters: (() => void)[] = [];

  constructor(path: string) {
    // Pod logs arrive in 16-64 KiB chunks and the slots batch them into large writes, so only a
    // few chunks need to wait here: a chunk that waits long outlives two young-generation
    // collections, dies in the old generation, and its memory then waits for full collections.
    super({ highWaterMark: 256 * 1024 });
    this.path = path;
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // 'wx': evidence is never overwritten, even by a second collector of the same name.
    this.fd = openSync(path, 'wx', 0o600);
    // Errors are reported through finish() and `failure`, never as an unhandled 'error' event.
    this.on('error', (err) => (this.failure ??= err));
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.accept([chunk], 0, 0, cb);
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    this.accept(
      chunks.map((c) => c.chunk),
      0,
      0,
      cb,
    );
  }

  /** Copies chunks into the slots; the callback waits only when both slots are with the disk. */
  private accept(list: Buffer[], from: number, offset: number, cb: (err?: Error | null) => void): void {
    if (this.fd === undefined) return cb(new Error(`${this.path} is already closed`));
    if (this.broken) return cb(this.broken);
    if (!this.pair) {
      this.pair = takeSlots();
      this.free = this.pair.map((mem) => ({ mem, base: 0, len: 0, landed: 0 }));
    }
    let off = offset;
    for (let i = from; i < list.length; i++, off = 0) {
      const b = list[i];
      while (off < b.length) {
        if (!this.filling) {
          const s = this.free.pop();
          if (!s) {
            this.blocked = { list, at: i, off, cb };
            return;
          }
          s.base = this.nextBase;
          s.len = 0;
          s.landed = 0;
          this.nextBase += SLOT;
          this.filling = s;
        }
        const f = this.filling;
        const n = Math.min(SLOT - f.len, b.length - off);
        b.copy(f.mem, f.len, off, off + n);
        f.len += n;
        off += n;
        if (f.len === SLOT) {
          this.pending.push(f);
          this.filling = undefined;
          this.pump();
        }
      }
    }
    this.armIdleFlush();
    cb();
  }

  /**
   * Copies `bytes` into the slots now, outside the Writable queue, for a reader that reuses its
   * buffer for the next socket read (src/evidence/download.ts): true when all of it is in and more
   * may come, and `cb` is not called; false when both slots are with the disk, in which case the
   * rest has been copied aside and `cb` says when it is in (and more may come), or when the file
   * has failed, in which case `cb` has already had the error.
   */
  take(bytes: Buffer, cb: (err?: Error | null) => void): boolean {
    let sync = true;
    let settled = false;
    let failed = false;
    this.accept([bytes], 0, 0, (err) => {
      settled = true;
      if (err) failed = true;
      if (!sync || err) cb(err);
    });
    sync = false;
    if (settled) return !failed;
    const b = this.blocked!;
    // One read's worth at most: the caller stops reading until cb.
    b.list = [Buffer.from(b.list[b.at].subarray(b.off))];
    b.at = 0;
    b.off = 0;
    return false;
  }

  private armIdleFlush(): void {
    if (this.idleTimer || !this.filling || this.filling.len === this.filling.landed) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      // Still streaming fast: the slot will fill soon enough.
      if (this.writing || this.pending.length) return this.armIdleFlush();
      this.flushWanted = true;
      this.pump();
    }, IDLE_FLUSH_MS);
    this.idleTimer.unref();
  }

  /** Writes the next slot, one write at a time so the hash sees the file's bytes in order. */
  private pump(): void {
    if (this.writing || this.fd === undefined) return;
    const f = this.filling;
    const s = this.broken ? undefined : (this.pending[0] ?? ((this.flushWanted || this.closing) && f && f.len > f.landed ? f : undefined));
    if (!s) {
      if (this.isIdle()) for (const done of this.idleWaiters.splice(0)) done();
      return;
    }
    if (s.len === SLOT && this.direct === undefined) this.direct = openDirect(this.fd);
    const direct = s.len === SLOT && this.direct != null ? this.direct : undefined;
    this.writing = true;
    const start = direct !== undefined ? 0 : s.landed;
    write(direct ?? this.fd, s.mem, start, s.len - start, s.base + start, (err, n) => {
      this.writing = false;
      if (err || (direct === undefined && n === 0)) {
        // A direct write refused (alignment, a file system without O_DIRECT, a full disk): the same
        // bytes go through the page cache, whose own error, if any, is the one that counts.
        if (direct !== undefined) return this.dropDirect();
        this.rewindHash(s);
        return this.fail(err ?? new Error(`${this.path}: write made no progress`));
      }
      const end = start + n;
      if (end > s.landed) {
        this.bytes += end - s.landed;
        streamed(end - s.landed);
        s.landed = end;
        this.onBytes?.(this.bytes);
      }
      if (this.behind && this.bytes >= this.hashedTo) this.behind = undefined;
      if (direct !== undefined && end < SLOT) return this.dropDirect();
      if (s === f) this.flushWanted = false;
      if (s.landed === SLOT && this.pending[0] === s) {
        this.pending.shift();
        this.free.push(s);
        const b = this.blocked;
        this.blocked = undefined;
        if (b) this.accept(b.list, b.at, b.off, b.cb);
      }
      this.pump();
    });
    // Hashed while the disk takes it: the thread pool writes, this thread hashes the same bytes.
    this.hashAhead(s);
  }

  /** Takes the slot's bytes not yet hashed into the hash, keeping the hash as it was for a failed write. */
  private hashAhead(s: Slot): void {
    if (this.hashedTo >= s.base + s.len) return;
    this.behind ??= { hash: this.hash.copy(), at: this.hashedTo };
    this.hash.update(s.mem.subarray(this.hashedTo - s.base, s.len));
    this.hashedTo = s.base + s.len;
  }

  /** A write failed: the hash goes back to covering exactly the bytes that landed. */
  private rewindHash(s: Slot): void {
    if (!this.behind) return;
    this.hash = this.behind.hash;
    this.hash.update(s.mem.subarray(this.behind.at - s.base, s.landed));
    this.hashedTo = this.bytes;
    this.behind = undefined;
  }

  private dropDirect(): void {
    const fd = this.direct;
    this.direct = null;
    if (fd != null) close(fd, () => {});
    this.pump();
  }

  /** A write failed: nothing after it can land in order, so what is staged is dropped. */
  private fail(err: Error): void {
    this.broken = err;
    this.failure ??= err;
    this.pending = [];
    this.filling = undefined;
    const b = this.blocked;
    this.blocked = undefined;
    if (b) b.cb(err);
    else if (!this.destroyed && !this.closing) this.destroy(err);
    this.pump();
  }

  private isIdle(): boolean {
    if (this.writing || this.blocked) return false;
    if (this.broken) return true;
    return !this.pending.length && (!this.filling || this.filling.landed === this.filling.len);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.closeFd((err) => cb(this.broken ?? err));
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // What was accepted is still written: a cut-off stream keeps every byte it delivered.
    this.closeFd(() => cb(err));
  }

  private closeFd(cb: (err?: Error | null) => void): void {
    if (this.fd === undefined) return cb();
    this.closing = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    // Never close under a write in flight: the number could be reused and the write land elsewhere.
    if (!this.isIdle()) {
      this.idleWaiters.push(() => this.closeFd(cb));
      this.pump();
      return;
    }
    const fd = this.fd;
    const direct = this.direct;
    this.fd = undefined;
    this.direct = null;
    if (this.pair && spare.length < SPARE_PAIRS) spare.push(this.pair);
    this.pair = undefined;
    this.free = [];
    if (direct != null) close(direct, () => {});
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
