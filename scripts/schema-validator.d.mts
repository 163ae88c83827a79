// Types for scripts/schema-validator.mjs (imported by vitest.config.ts and the tests).
import type { Ajv2020, Options } from 'ajv/dist/2020.js';

export const SCHEMA_PATH: string;
export const OUTPUT_PATH: string;
export function schemaAjv(options?: Options): Ajv2020;
export function schemaSha256(text: string): string;
export function validatorModule(schemaText: string): string;
