// A problem in a user's file, with its position, and how it is reported. Kept apart from the YAML
// parser so commands can report problems without loading it.

import { UserError, type SourceLocation } from '../errors.js';

export interface Problem {
  location: SourceLocation;
  message: string;
}

export function formatProblem(p: Problem): string {
  const { file, line, col } = p.location;
  return `${file}${line !== undefined ? `:${line}` : ''}${line !== undefined && col !== undefined ? `:${col}` : ''}: ${p.message}`;
}

/** One UserError carrying every problem: the first as its message, all of them as details. */
export function problemsError(problems: Problem[]): UserError {
  const [first, ...rest] = problems;
  return new UserError(first.message, {
    location: first.location,
    details: rest.map(formatProblem),
  });
}
