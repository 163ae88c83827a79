// The importer's score on a directory of playbook + manifest pairs (see src/runbooks/import/score.ts),
// for tests; scripts/import-score.mjs prints the same figures from the built dist/.
export { allowed, formatScore, programOf, scoreDirectory, scorePlaybook, type Made, type Manifest, type PlaybookScore, type Score } from '../../src/runbooks/import/score.js';
