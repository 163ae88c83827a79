#!/usr/bin/env node
// Scores `ir runbook import` on a directory of playbooks and their manifests (NN-name.md +
// NN-name.expected.yaml) using the built importer in dist/ (run `npm run build` first):
//   node scripts/import-score.mjs DIR [--verbose]
// Prints scenarios found, commands imported as steps, mutating commands left as plain `run`
// (must be 0) and ignored commands wrongly imported. Exit 1 when a mutating command is a plain run.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const dir = args.find((a) => !a.startsWith('-'));
if (!dir || !existsSync(dir)) {
  console.error('usage: node scripts/import-score.mjs DIR [--verbose]');
  process.exit(2);
}
const module = resolve(import.meta.dirname, '..', 'dist', 'runbooks', 'import', 'score.js');
if (!existsSync(module)) {
  console.error(`import-score: ${module} not found: run npm run build first`);
  process.exit(2);
}
const { scoreDirectory, formatScore } = await import(pathToFileURL(module).href);
const score = await scoreDirectory(resolve(dir));
for (const line of formatScore(score, args.includes('--verbose') || args.includes('-v'))) console.log(line);
process.exit(score.mutatingAsRun > 0 ? 1 : 0);
