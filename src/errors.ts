// Typed errors and the one table that maps them to exit codes (ARCHITECTURE.md, convention 6).

export const EXIT = {
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  CANCELLED: 130,
} as const;

/** Where in a user's file something went wrong; printed as file:line:col. */
export interface SourceLocation {
  file: string;
  line?: number;
  col?: number;
}

export function formatLocation(loc: SourceLocation): string {
  let out = loc.file;
  if (loc.line !== undefined) out += `:${loc.line}`;
  if (loc.line !== undefined && loc.col !== undefined) out += `:${loc.col}`;
  return out;
}

export abstract class IrError extends Error {
  abstract readonly exitCode: number;
  /** Machine-readable kind for --json error documents. */
  abstract readonly kind: string;
}

/** The user's input, configuration or file is wrong. Exit 2. */
export class UserError extends IrError {
  readonly exitCode: number = EXIT.USAGE;
  readonly kind: string = 'input';
  readonly location?: SourceLocation;
  /** Further lines (e.g. every error of a file), printed after the message. */
  readonly details: string[];

  constructor(message: string, opts: { location?: SourceLocation; details?: string[] } = {}) {
    super(opts.location ? `${formatLocation(opts.location)}: ${message}` : message);
    this.location = opts.location;
    this.details = opts.details ?? [];
  }
}

/** Wrong command-line usage: a missing flag, an unknown option. Exit 2. */
export class UsageError extends UserError {
  override readonly kind: string = 'usage';
}

/** An operation ran and failed: a check, a collector, a verification. Exit 1. */
export class OperationError extends IrError {
  readonly exitCode: number = EXIT.FAILED;
  readonly kind: string = 'failed';
  readonly details: string[];
  constructor(message: string, details: string[] = []) {
    super(message);
    this.details = details;
  }
}

/** An external program could not be started or failed in a way ir cannot recover from. Exit 1. */
export class ExternalCommandError extends OperationError {
  override readonly kind: string = 'external-command';
}

/** The user pressed Ctrl-C or declined; what was recorded before stays. Exit 130. */
export class CancelledError extends IrError {
  readonly exitCode: number = EXIT.CANCELLED;
  readonly kind: string = 'cancelled';
  constructor(message = 'cancelled') {
    super(message);
  }
}

/** A few words for what went wrong with the machine, or undefined when the code is not one of those. */
export function systemCause(err: unknown): string | undefined {
  const code = String((err as { code?: unknown } | undefined)?.code ?? '');
  const causes: Record<string, string> = {
    ENOSPC: 'disk full',
    EDQUOT: 'disk quota exceeded',
    SQLITE_FULL: 'disk full',
    EROFS: 'read-only file system',
    SQLITE_READONLY: 'read-only file system',
    SQLITE_READONLY_DIRECTORY: 'read-only directory',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    ENOTDIR: 'a file stands where a directory is needed',
    EEXIST: 'a file stands where a directory is needed',
    EISDIR: 'a directory stands where a file is needed',
    SQLITE_CANTOPEN: 'the database file cannot be opened',
    SQLITE_NOTADB: 'not an ir database',
    SQLITE_CORRUPT: 'the database is damaged',
  };
  return causes[code] ?? (code.startsWith('SQLITE_IOERR') ? `disk I/O error (${code})` : undefined);
}

/** The path an fs error names, shown relative to nothing: the user typed or configured it. */
function errPath(err: NodeJS.ErrnoException): string {
  return err.path ?? (err as { dest?: string }).dest ?? '';
}

/**
 * The one-line cause of a failure of the machine rather than of ir: a full or read-only disk, a
 * permission, a path of the wrong kind. Setup problems (can't write where told to) are exit 2;
 * running out of disk part-way through an operation is exit 1. Undefined for anything else.
 */
export function systemError(err: unknown, fallbackPath?: string): IrError | undefined {
  if (!(err instanceof Error)) return undefined;
  const e = err as NodeJS.ErrnoException;
  const code = typeof e.code === 'string' ? e.code : '';
  const path = errPath(e) || fallbackPath || '';
  const at = path ? ` ${path}` : '';
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
    case 'SQLITE_FULL':
      return new OperationError(`disk full${path ? ` writing ${path}` : ''}: free some space; what was recorded before this is kept`);
    case 'EROFS':
    case 'SQLITE_READONLY':
    case 'SQLITE_READONLY_DIRECTORY':
    case 'SQLITE_READONLY_DBMOVED':
      return new UserError(`read-only file system${at ? `:${at}` : ''}: point IR_HOME (or --home) at a writable directory`);
    case 'EACCES':
    case 'EPERM':
      return new UserError(`permission denied${at ? `:${at}` : ''}`);
    case 'ENOTDIR':
      return new UserError(`not a directory${at ? `:${at}` : ''} (a file stands where a directory is needed)`);
    case 'EEXIST':
      return e.syscall === 'mkdir' ? new UserError(`${path} exists and is not a directory`) : undefined;
    case 'EISDIR':
      return new UserError(`${path || 'the output'} is a directory: name a file`);
    case 'ENAMETOOLONG':
      return new UserError(`file name too long${at ? `:${at}` : ''}`);
    case 'SQLITE_CANTOPEN':
      return new UserError(`cannot open the database${at ? `:${at}` : ''}: check that IR_HOME (or --home) is a writable directory`);
    case 'SQLITE_NOTADB':
    case 'SQLITE_CORRUPT':
      return new UserError(`the database is not an ir database or is damaged${at ? `:${at}` : ''}: ${e.message}`);
    default:
      if (code.startsWith('SQLITE_IOERR')) return new OperationError(`disk I/O error (${code}): ${e.message}`);
      return undefined;
  }
}
