// Holds the young generation of a thread that reads a long timeline at the size it has reached once
// that is NEW_SPACE_MAX. V8 doubles its semi-spaces (to 16 MiB each in Node 20) for as long as objects
// keep surviving collections, and a long timeline's pages do: at a million events the report's thread
// held 32 MiB of young generation where 16 did the same work in the same time (with node's
// --max-semi-space-size=8, postmortem of 1M events: peak RSS 110-111 -> 99 MiB, CPU alike). That
// size is set only from the command line, when the process starts; the factor it grows by is read at
// each growth, so a factor of 1 keeps it where it stands. Set like the evidence collector's
// --expose-gc (evidence/gc.ts): a V8 that does not take it just grows as before.

/** The young generation's size (both semi-spaces) past which it is not grown. */
const NEW_SPACE_MAX = 16 * 1024 * 1024;

let held = false;

/** Stops the young generation growing once it has reached NEW_SPACE_MAX; cheap to call per page. */
export function holdYoungGeneration(): void {
  if (held) return;
  const v8 = process.getBuiltinModule('node:v8');
  const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  if (!young || young.space_size < NEW_SPACE_MAX) return;
  held = true;
  try {
    v8.setFlagsFromString('--semi-space-growth-factor=1');
  } catch {
    // A V8 that refuses it: the young generation grows as it would have.
  }
}
