// The schema validator ir runs is generated at build time (scripts/schema-validator.mjs →
// dist/runbooks/schema-validator.js, then bundled): it must be the schema in runbooks/schema.json,
// compiled the way ajv compiles it, or a schema change without a rebuild would go unnoticed.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { schemaAjv, schemaSha256, SCHEMA_PATH } from '../../scripts/schema-validator.mjs';
import { ROOT } from '../helpers/cli.js';

type Doc = unknown;

/** Runbook documents: every shipped runbook and test fixture, and for each a batch of mistakes. */
function documents(): Array<{ name: string; doc: Doc }> {
  const dirs = [join(ROOT, 'runbooks'), join(ROOT, 'test', 'fixtures', 'runbooks')];
  const docs: Array<{ name: string; doc: Doc }> = [];
  for (const dir of dirs) {
    for (const f of readdirSync(dir).filter((n) => /\.ya?ml$/.test(n) && !/^(severities|evidence)/.test(n)).sort()) {
      const doc = parse(readFileSync(join(dir, f), 'utf8')) as Doc;
      docs.push({ name: f, doc });
      let n = 0;
      for (const [path, mutated] of mutations(doc)) if (n++ % 3 === 0) docs.push({ name: `${f} ${path}`, doc: mutated });
    }
  }
  return docs;
}

/** The document with one thing wrong at a time: wrong types, empty and odd strings, unknown and missing fields. */
function* mutations(doc: Doc): Generator<[string, Doc]> {
  const paths: Array<Array<string | number>> = [];
  const walk = (node: unknown, path: Array<string | number>) => {
    paths.push(path);
    if (Array.isArray(node)) node.forEach((v, i) => walk(v, [...path, i]));
    else if (node && typeof node === 'object') for (const [k, v] of Object.entries(node)) walk(v, [...path, k]);
  };
  walk(doc, []);
  const set = (path: Array<string | number>, value: unknown): Doc => {
    const copy = structuredClone(doc) as Record<string | number, unknown>;
    if (!path.length) return value;
    let node = copy;
    for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, unknown>;
    if (value === undefined) {
      if (Array.isArray(node)) node.splice(path[path.length - 1] as number, 1);
      else delete node[path[path.length - 1]];
    } else node[path[path.length - 1]] = value;
    return copy;
  };
  for (const path of paths) {
    const at = path.join('.');
    yield [`${at}=42`, set(path, 42)];
    yield [`${at}=''`, set(path, '')];
    yield [`${at}=-Bad Id`, set(path, '-Bad Id;$(x)')];
    yield [`${at}=[]`, set(path, [])];
    yield [`${at}={}`, set(path, { unknwon: true })];
    yield [`${at} removed`, set(path, undefined)];
    yield [`${at}=true`, set(path, true)];
    yield [`${at}=-1`, set(path, -1)];
  }
}

const summary = (validate: ValidateFunction, doc: Doc) => {
  const valid = validate(doc);
  // parentSchema and data are what validate.ts reads to word its messages.
  const errors = (validate.errors ?? []).map((e: ErrorObject) => ({ ...e, parentSchema: JSON.stringify(e.parentSchema), schema: JSON.stringify(e.schema) }));
  return { valid, errors };
};

describe('the build-time schema validator', () => {
  let built: { validate: ValidateFunction; SCHEMA_SHA256: string };
  beforeAll(async () => {
    built = await import(join(ROOT, 'dist', 'runbooks', 'schema-validator.js'));
  });

  it('was generated from runbooks/schema.json as it is now (a schema change needs `npm run build`)', () => {
    expect(built.SCHEMA_SHA256, 'dist/runbooks/schema-validator.js is stale: run npm run build').toBe(schemaSha256(readFileSync(SCHEMA_PATH, 'utf8')));
    // And the bundle ir runs carries that validator, not an older one.
    // (Code, not the code caches beside it, which hold a copy of their piece.)
    const chunks = readdirSync(join(ROOT, 'dist', 'bin')).filter((f) => /\.c?js$/.test(f) && readFileSync(join(ROOT, 'dist', 'bin', f), 'utf8').includes(built.SCHEMA_SHA256));
    expect(chunks, 'dist/bin does not carry the current validator: run npm run build').toHaveLength(1);
  });

  it('gives the verdicts and errors ajv gives compiling the schema now, on every fixture and hundreds of broken variants', () => {
    const fresh = schemaAjv().compile(JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')));
    const docs = documents();
    expect(docs.length).toBeGreaterThan(500);
    let invalid = 0;
    for (const { name, doc } of docs) {
      const want = summary(fresh, doc);
      expect(summary(built.validate, doc), name).toEqual(want);
      if (!want.valid) invalid++;
    }
    expect(invalid).toBeGreaterThan(300);
  });

  it('is code that needs nothing of ajv at run time', () => {
    const code = readFileSync(join(ROOT, 'dist', 'runbooks', 'schema-validator.js'), 'utf8');
    expect(code).not.toMatch(/\bfrom ["']ajv|require\(["']ajv/);
  });
});
