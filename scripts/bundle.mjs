// Bundles dist/main.js (tsc's output) into dist/bin, the code `bin/ir.js` runs: split at every
// dynamic import so a command loads only its own code; the packages below stay in node_modules,
// loaded where they are used (optional drivers, the heavy libraries).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const external = [
  'pg-native',
  'pg-cloudflare',
  '@inquirer/prompts',
  'chalk',
  'execa',
  'ora',
  'yaml',
  'ajv',
  'ajv/*',
  'handlebars',
  'handlebars/*',
  'tar',
  '@secretlint/*',
  'markdown-it',
];

/**
 * commander requires node:child_process when it loads, for executable subcommands ir never uses;
 * loading it (with net, dgram and their streams) costs every `ir` command about 3 ms. commander gets
 * a stand-in that loads the real module on first use.
 */
const lazyChildProcess = {
  name: 'lazy-child-process-for-commander',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      /[/\\]node_modules[/\\]commander[/\\]/.test(args.importer) ? { path: 'child_process', namespace: 'lazy-builtin' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, () => ({
      loader: 'js',
      contents: `let real;
module.exports = new Proxy({}, { get: (_, name) => (real ??= process.getBuiltinModule('node:child_process'))[name] });`,
    }));
  },
};

/**
 * better-sqlite3 itself stays installed (its native addon cannot be bundled), but its JavaScript,
 * imported by path in src/store/sqlite/driver.ts, is bundled: a dozen small CommonJS files Node
 * would otherwise load one by one. The driver uses it only with the addon of this same version.
 */
const sqliteVersion = JSON.parse(readFileSync(createRequire(join(root, 'dist', 'main.js')).resolve('better-sqlite3/package.json'), 'utf8')).version;
const sqliteDriver = {
  name: 'better-sqlite3-installed',
  setup(b) {
    b.onResolve({ filter: /^better-sqlite3$/ }, () => ({ path: 'better-sqlite3', external: true }));
    // Its addon finder, which the driver never calls when handed the addon: left out of the bundle.
    b.onResolve({ filter: /^bindings$/ }, () => ({ path: 'bindings', external: true }));
  },
};

const BANNER = "import { createRequire as __irCreateRequire } from 'node:module'; const require = __irCreateRequire(import.meta.url);";

const common = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir: join(root, 'dist', 'bin'),
  external,
  // Bundled CommonJS (commander, pg) calls require: give each chunk one, as Node gives a CommonJS module.
  banner: { js: BANNER },
  define: { IR_BUNDLED_BETTER_SQLITE3: JSON.stringify(sqliteVersion) },
  plugins: [lazyChildProcess, sqliteDriver],
  logLevel: 'warning',
  write: false,
};

// The verify helper thread (src/store/sqlite/verify-worker.ts) is its own entry, written beside the
// chunk that starts it as dist/bin/verify-worker.js; without it verify walks on one thread.
// The same for the helper threads of show/timeline (render-worker.js) and of the postmortem
// (src/report/timeline-helper.ts, written as dist/bin/timeline-helper.js) on a long incident.
const entryPoints = [
  join(root, 'dist', 'main.js'),
  join(root, 'dist', 'store', 'sqlite', 'verify-worker.js'),
  join(root, 'dist', 'commands', 'incident', 'render-worker.js'),
  join(root, 'dist', 'report', 'timeline-helper.js'),
];

/**
 * The program (main.js) is split at its dynamic imports. The helper threads are not part of that
 * split: each is one file of its own. A thread has its own module instances whatever the files, so
 * sharing chunks with the program bought nothing, while each thread entry that reached a module
 * (the chain, the driver, the store's rows…) cut the program's chunks finer: `ir note` fetched a dozen
 * small files where a few do. A thread also starts from one file instead of a dozen.
 */
const [program, ...threads] = entryPoints;
const results = await Promise.all([
  build({ ...common, entryPoints: [program], entryNames: '[name]', splitting: true }),
  build({ ...common, entryPoints: threads, entryNames: '[name]', splitting: false }),
]);
const outputFiles = results.flatMap((r) => r.outputFiles);

// The banner is kept only in the few chunks that name `require` (esbuild's runtime helpers, code
// that requires a built-in): in the rest it would create a require nobody calls, in every file a
// command loads.
for (const file of outputFiles) {
  let text = file.text;
  if (text.startsWith(`${BANNER}\n`) && !/\brequire\b/.test(text.slice(BANNER.length + 1))) text = text.slice(BANNER.length + 1);
  mkdirSync(dirname(file.path), { recursive: true });
  writeFileSync(file.path, text);
}
