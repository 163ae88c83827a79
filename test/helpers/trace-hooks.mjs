// Module resolve hook for trace-imports.mjs: appends each resolved URL to IR_TRACE_FILE.
import { appendFileSync } from 'node:fs';

export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (process.env.IR_TRACE_FILE) appendFileSync(process.env.IR_TRACE_FILE, `${result.url}\n`);
  return result;
}
