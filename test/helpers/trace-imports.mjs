// Preloaded with `node --import` to record every module the program loads (IR_TRACE_FILE): each URL
// the ESM loader resolves, and at exit every CommonJS file in the require cache (a package loaded
// with require never passes the ESM resolve hook) and Node's own built-in modules
// (`node:internal/...`, e.g. the fetch implementation undici).
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';

register('./trace-hooks.mjs', import.meta.url);

const cache = createRequire(import.meta.url).cache;
process.on('exit', () => {
  const file = process.env.IR_TRACE_FILE;
  if (!file) return;
  const cjs = Object.keys(cache).map((p) => pathToFileURL(p).href);
  const builtin = process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => `node:${m.slice('NativeModule '.length)}`);
  appendFileSync(file, [...cjs, ...builtin].map((l) => `${l}\n`).join(''));
});
