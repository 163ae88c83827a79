// Writes dist/commands.json: what `ir --help` lists for each command module, read from the modules
// themselves (src/cli/program.ts commandManifest), so `ir` can list every command while loading
// only the one it runs.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const { commandManifest } = await import(join(dist, 'cli', 'program.js'));
const { Context } = await import(join(dist, 'context.js'));
writeFileSync(join(dist, 'commands.json'), `${JSON.stringify(await commandManifest(new Context()), null, 1)}\n`);
