// The runbook schema's validator, generated at build time (scripts/schema-validator.mjs) into
// dist/runbooks/schema-validator.js; under vitest the config compiles it from the schema on import.
import type { ValidateFunction } from 'ajv/dist/2020.js';

export const SCHEMA_SHA256: string;
export const validate: ValidateFunction;
export default validate;
