// Redaction for exported copies: credentials found by pattern become placeholders such as
// [REDACTED-TOKEN-1]. One Redaction instance spans a whole export, so the same value maps to the
// same placeholder in every file (a reader can still follow "the token used here was used there").
// Applied as a line-based stream transform; originals on disk are never touched.

import { Transform, type TransformCallback } from 'node:stream';
import { UsageError } from '../errors.js';

interface Rule {
  kind: string;
  re: RegExp;
  /** Which capture group holds the secret (0: the whole match). */
  group: number;
}

/** Built-in rules, most specific first: a JWT inside a bearer header is named as a JWT. */
const RULES: Rule[] = [
  { kind: 'JWT', re: /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g, group: 0 },
  { kind: 'AWS-KEY', re: /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g, group: 0 },
  { kind: 'AUTH', re: /(\bAuthorization\s*[:=]\s*(?:(?:Bearer|Basic|Token|Digest|Negotiate)\s+)?)([^\s"',;]+)/gi, group: 2 },
  { kind: 'TOKEN', re: /(\bBearer\s+)([A-Za-z0-9\-._~+/]{8,}=*)/g, group: 2 },
  { kind: 'PASSWORD', re: /(\b[a-z][a-z0-9+.-]*:\/\/[^:/\s@'"]+:)([^@\s'"/]+)(@)/gi, group: 2 },
  // JSON: the whole quoted value, spaces and all.
  {
    kind: 'PASSWORD',
    re: /("(?:password|passwd|pwd|secret|client_secret|access_token|refresh_token|api[_-]?key|token)"\s*:\s*")((?:[^"\\]|\\.)+)(")/gi,
    group: 2,
  },
  {
    kind: 'PASSWORD',
    re: /((?:^|[^A-Za-z0-9])"?(?:password|passwd|pwd|secret|client_secret|access_token|refresh_token|api[_-]?key|token)"?\s*[:=]\s*"?)(?!(?:Bearer|Basic|Token)\s)([^"\s&,;}]+)/gi,
    group: 2,
  },
  { kind: 'AWS-SECRET', re: /(\baws_secret_access_key\s*[:=]\s*)([A-Za-z0-9/+=]{40})/gi, group: 2 },
];

const MAX_LINE = 1024 * 1024;
const PLACEHOLDER = /^\[REDACTED-[A-Z-]+-\d+\]$/;

export class Redaction {
  private readonly rules: Rule[];
  private readonly placeholders = new Map<string, string>();
  private readonly counters = new Map<string, number>();
  /** How many values were replaced, by kind (for the export's report). */
  readonly counts = new Map<string, number>();

  constructor(userPatterns: string[] = []) {
    const user = userPatterns.map((p): Rule => {
      let re: RegExp;
      try {
        re = new RegExp(p, 'g');
      } catch (err) {
        throw new UsageError(`--redact-pattern ${JSON.stringify(p)} is not a valid regular expression: ${(err as Error).message}`);
      }
      if (re.test('')) throw new UsageError(`--redact-pattern ${JSON.stringify(p)} matches the empty string`);
      // With a capture group, only the group is the secret (e.g. "session=(\w+)").
      const groups = new RegExp(`${p}|`).exec('')!.length - 1;
      return { kind: 'CUSTOM', re, group: groups > 0 ? 1 : 0 };
    });
    this.rules = [...user, ...RULES];
  }

  private placeholder(kind: string, value: string): string {
    let p = this.placeholders.get(value);
    if (!p) {
      const n = (this.counters.get(kind) ?? 0) + 1;
      this.counters.set(kind, n);
      p = `[REDACTED-${kind}-${n}]`;
      this.placeholders.set(value, p);
    }
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    return p;
  }

  /** One line (or any text) with every match replaced. */
  apply(text: string): string {
    let out = text;
    for (const rule of this.rules) {
      rule.re.lastIndex = 0;
      out = out.replace(rule.re, (...m: unknown[]) => {
        // (match, p1…pn, offset, string[, named groups]): the captures end where the offset begins.
        const groups = m.slice(0, m.findIndex((x) => typeof x === 'number')) as (string | undefined)[];
        const whole = groups[0] ?? '';
        const secret = groups[rule.group];
        if (!secret || PLACEHOLDER.test(secret)) return whole;
        if (rule.group === 0) return this.placeholder(rule.kind, secret);
        // Rebuild the match with only the secret group replaced.
        let rebuilt = '';
        for (let i = 1; i < groups.length; i++) {
          if (typeof groups[i] !== 'string') continue;
          rebuilt += i === rule.group ? this.placeholder(rule.kind, secret) : groups[i];
        }
        const coveredAll = groups.slice(1).reduce((n, g) => n + (g?.length ?? 0), 0) === whole.length;
        return coveredAll ? rebuilt : whole.replace(secret, this.placeholder(rule.kind, secret));
      });
    }
    return out;
  }

  /** A transform that redacts line by line; a line longer than 1 MiB is redacted in pieces. */
  stream(): Transform {
    let pending = '';
    const apply = (text: string) => this.apply(text);
    return new Transform({
      transform(chunk: Buffer, _enc, cb: TransformCallback) {
        pending += chunk.toString('utf8');
        const cut = pending.lastIndexOf('\n');
        if (cut >= 0) {
          this.push(apply(pending.slice(0, cut + 1)));
          pending = pending.slice(cut + 1);
        } else if (pending.length > MAX_LINE) {
          this.push(apply(pending));
          pending = '';
        }
        cb();
      },
      flush(cb: TransformCallback) {
        if (pending) this.push(apply(pending));
        pending = '';
        cb();
      },
    });
  }
}
