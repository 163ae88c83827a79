// Preloaded with `node --import` to record every module URL the program resolves (IR_TRACE_FILE).
import { register } from 'node:module';

register('./trace-hooks.mjs', import.meta.url);
