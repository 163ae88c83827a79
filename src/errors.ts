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
