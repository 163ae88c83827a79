// Reads a user's YAML file keeping positions, so every complaint can name file:line:col.

import { readFileSync } from 'node:fs';
import { isMap, isNode, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { UserError, type SourceLocation } from '../errors.js';
import { problemsError, type Problem } from './problems.js';

export { formatProblem, problemsError, type Problem } from './problems.js';

/** Aliases allowed in one document before it is treated as a billion-laughs attack. */
const MAX_ALIASES = 100;

export type YamlPath = ReadonlyArray<string | number>;

export class YamlSource {
  readonly data: unknown;

  private constructor(
    readonly file: string,
    private readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
    data: unknown,
  ) {
    this.data = data;
  }

  /**
   * Parses text. Syntax errors and hostile documents come back as problems rather than throws,
   * so a validator can report every file's errors in one pass.
   */
  static parse(file: string, text: string): { source?: YamlSource; problems: Problem[] } {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    const problems: Problem[] = [];
    for (const err of doc.errors) {
      const pos = err.linePos?.[0] ?? lines.linePos(err.pos[0]);
      const message = err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
      problems.push({ location: { file, line: pos.line, col: pos.col }, message: `YAML syntax: ${message}` });
    }
    if (problems.length) return { problems };
    let data: unknown;
    try {
      data = doc.toJS({ maxAliasCount: MAX_ALIASES });
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      const message = /alias/i.test(why)
        ? `too many YAML aliases (more than ${MAX_ALIASES}): refusing a document that expands without bound`
        : `YAML: ${why}`;
      return { problems: [{ location: { file, line: 1, col: 1 }, message }] };
    }
    return { source: new YamlSource(file, doc, lines, data), problems };
  }

  /** Reads and parses a file; throws a UserError listing every syntax problem. */
  static load(file: string, displayName = file): YamlSource {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UserError(code === 'ENOENT' ? 'file not found' : `cannot read: ${(err as Error).message}`, {
        location: { file: displayName },
      });
    }
    const { source, problems } = YamlSource.parse(displayName, text);
    if (!source) throw problemsError(problems);
    return source;
  }

  /** Location of the value at path, or of the nearest ancestor that exists. */
  at(path: YamlPath): SourceLocation {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = this.nodeAt(path.slice(0, depth));
      if (node?.range) {
        const pos = this.lines.linePos(node.range[0]);
        return { file: this.file, line: pos.line, col: pos.col };
      }
    }
    return { file: this.file, line: 1, col: 1 };
  }

  /** Location of the key of the last path element (for "unknown field" complaints). */
  keyAt(path: YamlPath): SourceLocation {
    const parent = this.nodeAt(path.slice(0, -1));
    const last = path[path.length - 1];
    if (isMap(parent)) {
      for (const item of parent.items) {
        if (isPair(item) && isScalar(item.key) && item.key.value === last && item.key.range) {
          const pos = this.lines.linePos(item.key.range[0]);
          return { file: this.file, line: pos.line, col: pos.col };
        }
      }
    }
    return this.at(path);
  }

  problem(path: YamlPath, message: string, key = false): Problem {
    return { location: key ? this.keyAt(path) : this.at(path), message };
  }

  private nodeAt(path: YamlPath): Node | undefined {
    let node: unknown = this.doc.contents;
    for (const key of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key);
        node = pair?.value;
      } else if (isSeq(node) && typeof key === 'number') {
        node = node.items[key];
      } else {
        return undefined;
      }
    }
    return isNode(node) ? node : undefined;
  }
}
