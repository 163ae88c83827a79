// The private scratch file a postmortem's timeline rows wait in until the parts of the report that
// need every event are written: a batch of rows at a time, each encoded into one buffer that is
// reused, since the file takes the bytes at once. A new buffer per batch was memory outside the
// heap, counted against it until a collection, and half the cost of writing the rows.

import { closeSync, openSync, writeSync } from 'node:fs';

/** Bytes encoded at once: a batch of rows is a few tens of KiB; a longer text gets its own buffer. */
const SIZE = 256 * 1024;

export interface RowsFile {
  write(text: string): void;
  close(): void;
}

/** Creates (or empties) `path`, readable by its owner only. */
export function rowsFile(path: string): RowsFile {
  const fd = openSync(path, 'w', 0o600);
  let buf: Buffer | undefined;
  return {
    write(text) {
      // UTF-8 takes at most 3 bytes per UTF-16 unit: a text that fits so is encoded whole.
      const fits = text.length * 3 <= SIZE;
      if (fits) buf ??= Buffer.allocUnsafeSlow(SIZE);
      const bytes = fits ? buf!.subarray(0, buf!.write(text)) : Buffer.from(text);
      for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at);
    },
    close: () => closeSync(fd),
  };
}
