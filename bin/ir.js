#!/usr/bin/env node
// CommonJS (bin/package.json): Node starts a CommonJS entry about 5 ms sooner than an ES module,
// and the program it runs (dist/bin/main.cjs, scripts/bundle.mjs) is CommonJS as well.
require('../dist/bin/main.cjs')
  .run(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
