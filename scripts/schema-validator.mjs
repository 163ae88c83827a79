// Compiles runbooks/schema.json with ajv at build time into a standalone ES module
// (dist/runbooks/schema-validator.js), so `ir` validates runbooks without loading ajv's compiler
// or compiling the schema on every start. Also used by the tests (vitest.config.ts) and by the
// test that checks the built validator is fresh.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import standalone from 'ajv/dist/standalone/index.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SCHEMA_PATH = join(ROOT, 'runbooks', 'schema.json');
export const OUTPUT_PATH = join(ROOT, 'dist', 'runbooks', 'schema-validator.js');

/** The ajv instance the runbook schema is compiled with; src/runbooks/validate.ts reads its errors. */
export function schemaAjv(options = {}) {
  const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true, strictTypes: false, strictRequired: false, ...options });
  // VS Code / yaml-language-server annotation: the sentence shown when a pattern does not match.
  ajv.addKeyword({ keyword: 'patternErrorMessage', schemaType: 'string' });
  return ajv;
}

export function schemaSha256(text) {
  return createHash('sha256').update(text).digest('hex');
}

/** ES module source exporting `validate` (an ajv validate function) and the schema's sha256. */
export function validatorModule(schemaText) {
  const ajv = schemaAjv({ code: { source: true, esm: true } });
  const code = standalone.default(ajv, ajv.compile(JSON.parse(schemaText)));
  // ajv's ESM output still require()s its runtime helpers. The one this schema needs, ucs2length
  // (minLength counts code points), is written here, so running the validator loads nothing of
  // ajv; any other helper a future schema needs is required from ajv as it is.
  let helpers = false;
  const body = code.replace(/^"use strict";/, '').replace(/require\("(ajv\/dist\/runtime\/[\w-]+)"\)/g, (_, spec) => {
    if (spec === 'ajv/dist/runtime/ucs2length') return '{ default: codePoints }';
    helpers = true;
    return `require(${JSON.stringify(spec)})`;
  });
  return [
    '// Generated at build time by scripts/schema-validator.mjs from runbooks/schema.json: do not edit.',
    ...(helpers ? ["import { createRequire } from 'node:module';", 'const require = createRequire(import.meta.url);'] : []),
    `export const SCHEMA_SHA256 = ${JSON.stringify(schemaSha256(schemaText))};`,
    '/** Length in code points, as JSON Schema counts it (a surrogate pair is one character). */',
    'function codePoints(text) {',
    '  let n = 0;',
    '  for (const _ of text) n++;',
    '  return n;',
    '}',
    body,
    // Kept on the function so the hash survives bundling: the tests find it in dist/bin.
    "Object.defineProperty(validate, 'schemaSha256', { value: SCHEMA_SHA256 });",
    '',
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  mkdirSync(dirname(OUTPUT_PATH), { recursive: true });
  writeFileSync(OUTPUT_PATH, validatorModule(readFileSync(SCHEMA_PATH, 'utf8')));
}
