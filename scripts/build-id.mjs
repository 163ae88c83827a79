// Names this build of ir (dist/build-id): a hash of everything in dist/bin, the bundle that runs,
// but for V8's code caches (scripts/code-cache.mjs), which are made from that code afterwards.
// Caches keyed by it (src/config/cache.ts) never hand one build's results to another.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const hash = createHash('sha256');
for (const name of readdirSync(join(dist, 'bin')).filter((n) => !n.endsWith('.cache')).sort()) hash.update(name).update('\0').update(readFileSync(join(dist, 'bin', name))).update('\0');
writeFileSync(join(dist, 'build-id'), `${hash.digest('hex').slice(0, 32)}\n`);
