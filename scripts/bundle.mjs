// Bundles dist/main.js (tsc's output) into dist/bin, the code `bin/ir.js` runs: split at every
// dynamic import so a command loads only its own code; the packages below stay in node_modules,
// loaded where they are used (optional drivers, the heavy libraries). Handlebars is bundled: its
// runtime is two dozen small CommonJS files that every report loaded one by one. So is yaml
// (seven dozen files, 30-40 ms to load, for every severities.yaml or runbook not parsed before).
// Everything the program loads is written as CommonJS (.cjs): main.js as main.cjs, which bin/ir.js
// requires, and the pieces it loads (see toCommonJS below).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, transform } from 'esbuild';
import { pieceLoader } from './piece-loader.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const external = [
  'pg-native',
  'pg-cloudflare',
  '@inquirer/prompts',
  'chalk',
  'execa',
  'ora',
  'ajv',
  'ajv/*',
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

/** ir's version, known when it is built: `ir --version` then reads no package.json (src/version.ts). */
const irVersion = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;

const common = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir: join(root, 'dist', 'bin'),
  absWorkingDir: root,
  external,
  // Bundled CommonJS (commander, pg) calls require: give each chunk one, as Node gives a CommonJS module.
  banner: { js: BANNER },
  define: { IR_BUNDLED_BETTER_SQLITE3: JSON.stringify(sqliteVersion), IR_VERSION: JSON.stringify(irVersion) },
  plugins: [lazyChildProcess, sqliteDriver],
  logLevel: 'warning',
  write: false,
  metafile: true,
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
  join(root, 'dist', 'store', 'sqlite', 'page-worker.js'),
];

/**
 * The program (main.js) is split at its dynamic imports. The helper threads are not part of that
 * split: each is one file of its own. A thread has its own module instances whatever the files, so
 * sharing chunks with the program bought nothing, while each thread entry that reached a module
 * (the chain, the driver, the store's rows…) cut the program's chunks finer: `ir note` fetched a dozen
 * small files where a few do. A thread also starts from one file instead of a dozen.
 */
const [program, ...threads] = entryPoints;
const [split, single] = await Promise.all([
  build({ ...common, entryPoints: [program], entryNames: '[name]', splitting: true }),
  build({ ...common, entryPoints: threads, entryNames: '[name]', splitting: false }),
]);

/** A file of dist/bin: its text and what it holds (the modules esbuild put in it, for the header). */
const files = new Map();
for (const result of [split, single]) {
  for (const file of result.outputFiles) {
    const meta = result.metafile.outputs[relative(root, file.path)];
    const inputs = Object.entries(meta?.inputs ?? {}).filter(([, i]) => i.bytesInOutput > 0).map(([path]) => path);
    const imports = (meta?.imports ?? []).filter((i) => !i.external).map((i) => ({ name: basename(i.path), kind: i.kind }));
    const bare = (meta?.imports ?? []).filter((i) => i.external && i.kind === 'import-statement' && !isBuiltin(i.path)).map((i) => i.path);
    files.set(basename(file.path), { text: file.text, inputs, imports, bare, program: result === split });
  }
}

/**
 * Node 20 loads an ES module at about three times the cost of a CommonJS one (an asynchronous read,
 * resolution by URL and package scope, a module record to link), and `ir note` loads about twenty of
 * them; its ESM loader has no compile cache either. So the program's pieces, split by esbuild as ES
 * modules, are turned into CommonJS files one by one (same split, same module instances: each is
 * required once, by path): an `import` of a piece becomes a require, an `import()` a require in a
 * promise. main.js, with no static import at all, is written as CommonJS too (main.cjs), so
 * `ir --version` loads two files (bin/ir.js and main.cjs) and no ES module. A piece that imports an
 * external package statically (none does since yaml is bundled) stays an ES module, and so does every
 * piece that imports one of those: a require cannot load an ES module without Node's experimental
 * require(esm). The helper threads stay single ES modules.
 */
const MAIN = 'main.js';
/** The name main.js is written under: CommonJS, see below. */
const MAIN_CJS = 'main.cjs';
const programFiles = [...files].filter(([, f]) => f.program).map(([name]) => name);
// main.js is written on its own (as main.cjs, below), never by toCommonJS.
const staysEsm = new Set([MAIN]);
for (let grew = true; grew; ) {
  grew = false;
  for (const name of programFiles) {
    const f = files.get(name);
    if (staysEsm.has(name)) continue;
    if (f.bare.length || f.imports.some((i) => i.kind === 'import-statement' && staysEsm.has(i.name) && i.name !== MAIN)) {
      staysEsm.add(name);
      grew = true;
    }
  }
}
const mainFile = files.get(MAIN);
// esbuild has every entry import the chunk of its runtime helpers, for nothing when the entry uses
// none of them (main.js does not: it has no static import to interoperate with).
for (const { name } of mainFile.imports.filter((i) => i.kind === 'import-statement' && files.get(i.name).inputs.length === 0)) {
  const line = `import "./${name}";\n`;
  if (mainFile.text.includes(line)) {
    mainFile.text = mainFile.text.replace(line, '');
    mainFile.imports = mainFile.imports.filter((i) => i.name !== name);
  }
}
const mainStatic = mainFile.imports.filter((i) => i.kind === 'import-statement').map((i) => i.name);
if (mainStatic.length || mainFile.bare.length) {
  throw new Error(`bundle: dist/bin/main.js imports ${[...mainStatic, ...mainFile.bare].join(', ')} statically; \`ir --version\` must load main.js alone (keep every import in src/main.ts dynamic)`);
}
// esbuild's pieces import each other without cycles; a cycle would make a require see a piece half
// initialised where ES modules would bind late, so a build that makes one says so instead.
const visiting = new Set();
const done = new Set();
const visit = (name, path) => {
  if (done.has(name)) return;
  if (visiting.has(name)) throw new Error(`bundle: the pieces import each other in a cycle: ${[...path, name].join(' -> ')}`);
  visiting.add(name);
  for (const i of files.get(name).imports) if (i.kind === 'import-statement') visit(i.name, [...path, name]);
  visiting.delete(name);
  done.add(name);
};
for (const name of programFiles) visit(name, []);
const cjsName = (name) => name.replace(/\.js$/, '.cjs');
const converted = (name) => programFiles.includes(name) && !staysEsm.has(name);

/** The file's references to pieces that are now CommonJS: by their new name, and loaded with require where the file is CommonJS or main.js. */
function relink(text, { requireDynamic }) {
  return text.replace(/(import\(\s*)?"\.\/([\w.-]+\.js)"(\s*\))?/g, (whole, open, name, close) => {
    if (!converted(name)) return whole;
    if (open && close && requireDynamic) return `Promise.resolve().then(() => __irRequire("./${cjsName(name)}"))`;
    return `${open ?? ''}"./${cjsName(name)}"${close ?? ''}`;
  });
}

/** The modules a piece holds, one `// path` line each as esbuild writes them: readable, and what test/helpers/trace.ts looks for. */
const header = (inputs) => `// ${inputs.length ? 'ir: this file holds' : 'ir: esbuild runtime'}\n${inputs.map((i) => `// ${i}\n`).join('')}`;

async function toCommonJS(name, text) {
  const code = text.startsWith(`${BANNER}\n`) ? text.slice(BANNER.length + 1) : text;
  const out = await transform(code, { format: 'cjs', platform: 'node', target: 'node20', define: { 'import.meta.url': '__irModuleUrl' }, logLevel: 'error' });
  if (/\bimport\.meta\b/.test(out.code)) throw new Error(`bundle: ${name} uses import.meta beyond import.meta.url; give it a CommonJS equivalent in scripts/bundle.mjs`);
  // A dynamic import of a piece is a require of it here (the CommonJS loader, same module instance).
  const meta = /\b__irModuleUrl\b/.test(out.code) ? 'var __irModuleUrl = require("node:url").pathToFileURL(__filename).href;\n' : '';
  // An import() of anything else (an ES module piece, a package, a built-in) goes through the loader's
  // (see scripts/piece-loader.mjs): code compiled with vm cannot run its own in Node 20.
  const body = relink(out.code, { requireDynamic: true }).replace(/\bimport\(\s*("[^"\\]*")\s*\)/g, '__irImport($1)');
  if (/\bimport\s*\(/.test(body)) throw new Error(`bundle: ${name} has an import() of something other than a string; give it one, or teach scripts/bundle.mjs to route it`);
  const dynamic = body.includes('__irImport(') ? 'var __irImport = require.irImport ?? ((id) => import(id));\n' : '';
  return `${header(files.get(name).inputs)}${meta}${dynamic}var __irRequire = require;\n${body}`;
}

const written = await Promise.all(
  [...files].map(async ([name, f]) => {
    if (!f.program) return [name, f.text];
    if (name === MAIN) {
      // Its loader is made when first needed: `ir --version` never needs it.
      const lazy = `let __irLoader;\nconst __irRequire = (id) => (__irLoader ??= (${pieceLoader})(require("node:url").pathToFileURL(__filename).href, (id) => import(id)))(id);\n`;
      const text = f.text.startsWith(`${BANNER}\n`) ? f.text.slice(BANNER.length + 1) : f.text;
      // CommonJS too, as MAIN_CJS, which bin/ir.js (CommonJS by bin/package.json) requires: a process
      // whose entry is an ES module makes Node's ES module loader first, about 5 ms that were most of
      // what `ir --version` cost over `node -e 0`, and every command paid them.
      const out = await transform(`${lazy}${relink(text, { requireDynamic: true })}`, { format: 'cjs', platform: 'node', target: 'node20', logLevel: 'error' });
      if (/\bimport\.meta\b/.test(out.code)) throw new Error('bundle: main.js uses import.meta; it is written as CommonJS (dist/bin/main.cjs), where there is none');
      return [MAIN_CJS, out.code];
    }
    if (converted(name)) return [cjsName(name), await toCommonJS(name, f.text)];
    // An ES module piece keeps its banner only if it uses it (see below); its imports of CommonJS pieces are by their new names.
    return [name, relink(f.text, { requireDynamic: false })];
  }),
);

// The banner is kept only in the few files that name `require` (esbuild's runtime helpers, code
// that requires a built-in): in the rest it would create a require nobody calls.
const outdir = join(root, 'dist', 'bin');
mkdirSync(outdir, { recursive: true });
for (const [name, content] of written) {
  let text = content;
  if (text.startsWith(`${BANNER}\n`) && !/\brequire\b/.test(text.slice(BANNER.length + 1))) text = text.slice(BANNER.length + 1);
  writeFileSync(join(outdir, name), text);
}
