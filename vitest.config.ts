import { readFileSync } from 'node:fs';
import { defineConfig, type Plugin } from 'vitest/config';

const VIRTUAL_VALIDATOR = '\0ir-schema-validator';

/**
 * src/runbooks/validate.ts imports the schema validator that the build generates into dist/;
 * tests run the sources, so they get one compiled from runbooks/schema.json as it is now.
 */
const schemaValidator: Plugin = {
  name: 'ir-schema-validator',
  resolveId(id, importer) {
    if (id === './schema-validator.js' && importer?.replace(/\\/g, '/').endsWith('/src/runbooks/validate.ts')) return VIRTUAL_VALIDATOR;
    return undefined;
  },
  async load(id) {
    if (id !== VIRTUAL_VALIDATOR) return undefined;
    const { validatorModule, SCHEMA_PATH } = await import('./scripts/schema-validator.mjs');
    return validatorModule(readFileSync(SCHEMA_PATH, 'utf8'));
  },
};

// Tests spawn the built binary and real servers: give them time, and keep file-level parallelism
// within the machine's two cores.
export default defineConfig({
  plugins: [schemaValidator],
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    reporters: ['default'],
  },
});
