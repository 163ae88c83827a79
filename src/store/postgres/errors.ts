// Which driver errors mean "the team store cannot be reached now" (write to the outbox and go on), as
// opposed to a mistake to report (wrong password, no such database, a bug).

import { OperationError } from '../../errors.js';

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'ECONNABORTED']);
// Server-side: shutting down, starting up, too many connections; and the whole class 08 (connection exception).
const SERVER_CODES = new Set(['57P01', '57P02', '57P03', '53300']);

export function isConnectionError(err: unknown): boolean {
  if (err instanceof StoreUnreachable) return true;
  const e = err as { code?: unknown; message?: unknown; errors?: unknown[] } | undefined;
  if (!e) return false;
  const code = typeof e.code === 'string' ? e.code : '';
  if (NETWORK_CODES.has(code) || SERVER_CODES.has(code) || code.startsWith('08')) return true;
  // Several addresses tried (localhost → ::1 and 127.0.0.1): unreachable when every one was.
  if (Array.isArray(e.errors) && e.errors.length && e.errors.every((x) => isConnectionError(x))) return true;
  const msg = typeof e.message === 'string' ? e.message : '';
  return /timeout expired|connection timeout|Connection terminated|Client has encountered a connection error|the database system is (starting up|shutting down)|Connection refused/i.test(msg);
}

/** The team store did not answer within the connect timeout, or the connection dropped. */
export class StoreUnreachable extends OperationError {
  constructor(
    readonly store: string,
    readonly reason: string,
  ) {
    super(`team store unreachable: ${store}: ${reason}`);
  }
}
