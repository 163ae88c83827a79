// secretlint's recommended preset (vendor tokens: AWS, GitHub, Slack, npm, GCP, SendGrid, OpenAI,
// database connection strings, private keys …) as a finder of spans in text. Loaded on first use
// only: reports and exports need it, `ir note` and `ir --help` must not pay for it.

import type { SecretLintCoreConfig, SecretLintCoreResultMessage } from '@secretlint/types';

export interface Span {
  start: number;
  end: number;
  kind: string;
  /** Lower is more specific (names the placeholder when spans overlap). */
  priority: number;
}

/**
 * The rules of the preset this list was checked against, in its order: a newer secretlint with
 * other rules must be checked again (test/redact/prefilter.test.ts fails until it is).
 */
export const SECRETLINT_RULES = [
  'aws', 'gcp', 'privatekey', 'npm', 'basicauth', 'slack', 'sendgrid', 'shopify', 'github', 'gitlab', 'grafana', 'openai', 'anthropic', 'groq',
  'huggingface', 'linear', 'notion', '1password', 'database-connection-string', 'hashicorp-vault', 'vercel', 'databricks', 'docker', 'figma', 'filter-comments',
].map((name) => `@secretlint/secretlint-rule-${name}`);

/**
 * For each rule of the preset, the literal text its every pattern holds (regex source, matched
 * ignoring case): what secretlint can report in a string holds one of these. Read from the rules'
 * own patterns; a URL of any scheme (basic auth, database connection strings, Slack webhooks,
 * `x-oauth-basic` clone URLs) is `://`.
 */
export const SECRETLINT_TRIGGERS = [
  // aws: key ids as in ir's rule; `SECRET_ACCESS_KEY`; `ACCOUNT_ID` (an option ir leaves off).
  'a3t', 'akia', 'asia', 'agpa', 'aida', 'aroa', 'aipa', 'anpa', 'anva', 'secret', 'account',
  // gcp: a JSON key file holds "private_key_id" and "private_key".
  'private',
  // npm: `_authToken=`, `npm_…`, `https://…:x-oauth-basic@github.com/`.
  'token', 'npm_', 'x-oauth-basic',
  // slack: xoxb-, xoxp-, xapp-, xoxa-, xoxo-, xoxr-; webhooks are URLs.
  'xox', 'xapp',
  // openai and anthropic (sk-ant-), groq, huggingface, linear, notion.
  'sk-', 'gsk_', 'hf_', 'lin_api_', 'ntn_',
  // privatekey: -----BEGIN … PRIVATE KEY-----.
  // sendgrid, shopify (shppa_, shpca_, shpat_, shpss_), github (ghp_ … ghr_, github_pat_), gitlab.
  'sg\\.', 'shp', 'gh[pousr]_', 'github_pat_', 'glpat-',
  // grafana, 1password, hashicorp vault (hvs. hvb. hvr.), vercel (vcp_ vci_ vca_ vcr_ vck_).
  'glc_', 'glsa_', 'ops_', 'hv[sbr]\\.', 'vc[picrk]_',
  // databricks, docker, figma.
  'dapi', 'dckr_pat_', 'figd_',
  // basicauth, database-connection-string (mongodb, mysql, postgres), slack webhooks.
  '://',
];

type Lint = (text: string) => Promise<SecretLintCoreResultMessage[]>;
let loading: Promise<Lint> | undefined;

async function load(): Promise<Lint> {
  const [{ lintSource }, { rules }, { secretLintProfiler }] = await Promise.all([import('@secretlint/core'), import('@secretlint/secretlint-rule-preset-recommend'), import('@secretlint/profiler')]);
  // secretlint marks every step of every run in a process-wide profiler that keeps each mark for
  // good and searches them all at the next: a report or export scanned in many pieces would slow
  // quadratically and grow without bound. ir never reads the profile, so nothing is marked.
  secretLintProfiler.mark = () => undefined;
  // The preset's rules one by one rather than the preset itself: secretlint 12 does not honour
  // `disabled` for a rule inside a preset, and one of them must go — the comment filter, so
  // that a `secretlint-disable` line pasted into a note cannot switch redaction off.
  const config: SecretLintCoreConfig = {
    rules: rules
      .filter((rule) => rule.meta.id !== '@secretlint/secretlint-rule-filter-comments')
      // (The AWS rule's option to scan for key and account ids stays off: ir's own rule finds key
      // ids, and the account-id pattern alone cost more than every other rule together.)
      .map((rule) => ({ id: rule.meta.id, rule })),
  };
  return async (text: string) => {
    const result = await lintSource({ source: { filePath: 'ir-report.txt', ext: '.txt', content: text, contentType: 'text' }, options: { config, noPhysicFilePath: true } });
    return result.messages.filter((m): m is SecretLintCoreResultMessage => m.type === 'message');
  };
}

const KIND_NAMES: Record<string, string> = {
  privatekey: 'PRIVATE-KEY',
  'database-connection-string': 'PASSWORD',
  basicauth: 'PASSWORD',
  '1password': 'ONEPASSWORD',
};

function kindOf(ruleId: string): string {
  const name = ruleId.replace(/^@secretlint\/secretlint-rule-/, '');
  return KIND_NAMES[name] ?? (name.toUpperCase().replace(/[^A-Z]+/g, '-').replace(/^-|-$/g, '') || 'SECRET');
}

/**
 * Where the secret of one report lies. secretlint's range is the whole finding (a connection
 * string, a `KEY = value` assignment) and is not always aligned with it (the AWS secret-key rule
 * reports the value's length from the assignment's start); the value it names in `data` is exact.
 */
function locate(text: string, m: SecretLintCoreResultMessage): { start: number; end: number } {
  let [start, end] = m.range;
  const named = Object.values(m.data ?? {})
    .filter((v): v is string => typeof v === 'string' && v.length >= 4)
    .sort((a, b) => b.length - a.length);
  for (const v of named) {
    const inside = text.slice(start, end).indexOf(v);
    const at = inside >= 0 ? start + inside : text.indexOf(v, start);
    if (at >= 0 && at - start < 4096) {
      start = at;
      end = at + v.length;
      break;
    }
  }
  // Credentials in a URL: only the password is secret; scheme, user and host help the reader.
  const url = /^[a-z][a-z0-9+.-]*:\/\/[^:/\s@'"]*:([^@\s'"/]+)@/i.exec(text.slice(start, end));
  if (url) {
    const at = start + url[0].length - 1 - url[1].length;
    return { start: at, end: at + url[1].length };
  }
  return { start, end };
}

/** secretlint's findings in `text`, as spans. */
export async function secretlintSpans(text: string, priority: number): Promise<Span[]> {
  loading ??= load();
  const lint = await loading;
  return (await lint(text)).map((m) => ({ ...locate(text, m), kind: kindOf(m.ruleId), priority }));
}
