// Preloaded with `node --import` to record every module the program loads (IR_TRACE_FILE): each URL
// the ESM loader resolves, and at exit every CommonJS file in the require cache (a package loaded
// with require never passes the ESM resolve hook) and Node's own built-in modules
// (`node:internal/...`, e.g. the fetch implementation undici). The first use of an Intl formatter
// initialises ICU's locale data (about 15 ms), so each Intl service used is recorded as `intl:NAME`.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';

register('./trace-hooks.mjs', import.meta.url);

const intl = new Set();
for (const name of ['DateTimeFormat', 'NumberFormat', 'Collator', 'PluralRules', 'RelativeTimeFormat', 'ListFormat', 'Segmenter', 'DisplayNames']) {
  const real = Intl[name];
  if (typeof real !== 'function') continue;
  // Called with or without `new` (Intl.DateTimeFormat() is a constructor call too).
  Intl[name] = new Proxy(real, {
    apply: (target, self, args) => (intl.add(name), Reflect.apply(target, self, args)),
    construct: (target, args, newTarget) => (intl.add(name), Reflect.construct(target, args, newTarget === Intl[name] ? target : newTarget)),
  });
}
for (const [proto, methods] of [
  [Date.prototype, ['toLocaleString', 'toLocaleDateString', 'toLocaleTimeString']],
  [Number.prototype, ['toLocaleString']],
  [String.prototype, ['localeCompare']],
]) {
  for (const m of methods) {
    const real = proto[m];
    proto[m] = function (...args) {
      intl.add(`${proto.constructor.name}.${m}`);
      return real.apply(this, args);
    };
  }
}

const cache = createRequire(import.meta.url).cache;
process.on('exit', () => {
  const file = process.env.IR_TRACE_FILE;
  if (!file) return;
  const cjs = Object.keys(cache).map((p) => pathToFileURL(p).href);
  const builtin = process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => `node:${m.slice('NativeModule '.length)}`);
  appendFileSync(file, [...cjs, ...builtin, ...[...intl].map((n) => `intl:${n}`)].map((l) => `${l}\n`).join(''));
});
