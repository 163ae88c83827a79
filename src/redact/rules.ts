// ir's own secret rules: the shapes that secretlint's recommended preset does not report (it is
// a scanner for files in a repository, not for text pasted into an incident): Kubernetes env
// pairs, `password=`/`Authorization:` forms, bearer tokens, JWTs, Stripe keys, PEM blocks cut
// short, a GCP key id. Each rule names the capture group that holds the secret, so the words
// around it ("DB_PASSWORD", "Authorization: Bearer") stay readable in the report.

export interface Rule {
  /** The placeholder's middle: [REDACTED-<kind>-1]. */
  kind: string;
  re: RegExp;
  /** Which capture group holds the secret (0: the whole match). */
  group: number;
  /** Generic rules see ordinary words too: only values that could be a secret count. */
  generic?: boolean;
}

/** Names of variables and fields whose value is a credential. */
const SECRET_NAME = String.raw`[A-Za-z0-9_.-]*(?:PASSWORD|PASSWD|PASSPHRASE|PWD|SECRET|TOKEN|API_?KEY|APIKEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIALS?|AUTH)[A-Za-z0-9_.-]*`;
/**
 * The same idea for `name=value` text, where a bare `key` or `auth` would catch too much. The
 * match starts at the word itself and leaves out what comes before it in the name (`DB_`, `PG`),
 * so the regex engine tries a position only where such a word begins: matching an identifier
 * prefix first made these rules the slowest of all on large logs (30 ms a MiB against 1).
 */
const KEYWORD = String.raw`(?:password|passwd|passphrase|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|(?<![A-Za-z0-9])(?:pwd|pass))[A-Za-z0-9_.-]*`;
/** A quoted JSON string's body. */
const JSON_STRING = String.raw`(?:[^"\\]|\\.)*`;

/**
 * Rules that recognise a secret by its own shape, most specific first: when two rules find the
 * same value, the first one names it. secretlint's vendor rules rank after these.
 */
export const SHAPE_RULES: Rule[] = [
  // A whole PEM block; without its END line (cut short, or split over lines of a table cell), the
  // base64 run after BEGIN. `\\` keeps the `\n` escapes of a key inside JSON.
  {
    kind: 'PRIVATE-KEY',
    re: /-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]{0,16384}?-----END \1PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\s\\]*)/g,
    group: 0,
  },
  { kind: 'JWT', re: /\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/g, group: 0 },
  { kind: 'AWS', re: /\b(?:A3T[A-Z0-9]|AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[A-Z0-9]{16}\b/g, group: 0 },
  { kind: 'AWS', re: /(\baws_?secret_?access_?key["']?\s*[:=]\s*["']?)([A-Za-z0-9/+=]{40})/gi, group: 2 },
  { kind: 'STRIPE', re: /\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,}\b|\bwhsec_[A-Za-z0-9]{20,}\b/g, group: 0 },
  { kind: 'GCP', re: /("private_key_id"\s*:\s*")([0-9a-f]{16,})(")/g, group: 2 },
  // Kubernetes env entries, JSON (`kubectl get -o json`, either key first) and YAML.
  {
    kind: 'SECRET',
    re: new RegExp(String.raw`(\{\s*"name"\s*:\s*"${SECRET_NAME}"\s*,\s*"value"\s*:\s*")(${JSON_STRING})(")`, 'gi'),
    group: 2,
  },
  {
    kind: 'SECRET',
    re: new RegExp(String.raw`(\{\s*"value"\s*:\s*")(${JSON_STRING})("\s*,\s*"name"\s*:\s*"${SECRET_NAME}")`, 'gi'),
    group: 2,
  },
  {
    kind: 'SECRET',
    re: new RegExp(String.raw`(\bname:[ \t]*["']?${SECRET_NAME}["']?\s+value:[ \t]*)("[^"\r\n]*"|'[^'\r\n]*'|[^\s"'][^\r\n]*)`, 'gi'),
    group: 2,
  },
];

/** Rules that recognise a secret by the words around it; they rank after secretlint's rules. */
export const CONTEXT_RULES: Rule[] = [
  { kind: 'AUTH', re: /(\b(?:Proxy-)?Authorization["']?\s*[:=]\s*["']?(?:(?:Bearer|Basic|Token|Digest|Negotiate|Bot|AWS4-HMAC-SHA256)\s+)?)([^\s"',;]+)/gi, group: 2 },
  { kind: 'TOKEN', re: /(\bBearer\s+)([A-Za-z0-9\-._~+/]{8,}=*)/g, group: 2 },
  // user:password@ in any URL (connection strings, basic auth in a clone URL).
  { kind: 'PASSWORD', re: /(\b[a-z][a-z0-9+.-]*:\/\/[^:/\s@'"]*:)([^@\s'"/]+)(@)/gi, group: 2 },
  // JSON: the whole quoted value, spaces and all.
  { kind: 'PASSWORD', re: new RegExp(String.raw`(${KEYWORD}"\s*:\s*")(${JSON_STRING})(")`, 'gi'), group: 2, generic: true },
  // name=value, name: value, --name=value, NAME='value' …
  {
    kind: 'PASSWORD',
    re: new RegExp(String.raw`(${KEYWORD}["']?[ \t]*(?:=|:(?!//))[ \t]*)("[^"\r\n]+"|'[^'\r\n]+'|(?!(?:Bearer|Basic|Token)\s)[^\s"'&,;}\]|)<>]+)`, 'gi'),
    group: 2,
    generic: true,
  },
];

/**
 * Words without which none of the rules above can match, as regex source (matched ignoring case):
 * each rule's match holds one of them in the string where it starts. Text holding none of them, in
 * any string, needs no scan by these rules. A rule added above must add its word here (the
 * prefilter tests in test/redact/prefilter.test.ts run every rule against the corpus).
 */
export const RULE_TRIGGERS = [
  // PEM blocks and the GCP key id.
  'private',
  'eyj',
  // AWS key ids (AKIA…); the secret access key is `secret`.
  'a3t', 'akia', 'asia', 'agpa', 'aida', 'aroa', 'aipa', 'anpa', 'anva',
  '_live_', '_test_', 'whsec_',
  // The secret names of SECRET_NAME and KEYWORD: PASSWORD/PASSWD/PASSPHRASE/pass, PWD, SECRET,
  // TOKEN, API_KEY/APIKEY/api-key, ACCESS_KEY, PRIVATE_KEY (above), CREDENTIALS, AUTH (and
  // Authorization). Not `key` alone: no rule takes it without one of these before it.
  'pass', 'pwd', 'secret', 'token', 'api[_-]?key', 'access[_-]?key', 'credential', 'auth',
  // A Kubernetes env pair written value first: its name may come in a later string (a value cut
  // over two notes), so the string where it starts is the one with `"value"`.
  '"value"',
  'bearer',
  // user:password@ in a URL.
  '://',
];

const NOT_SECRETS = new Set(['true', 'false', 'null', 'none', 'nil', 'undefined', 'yes', 'no', 'required', 'optional', 'redacted', 'masked', 'hidden', 'changeme', 'string', 'secret', 'password', 'token']);

/**
 * Whether a value found by a generic rule could be a credential: not a word such as `none`, not a
 * short number (`max_tokens: 4096`), not a reference (`$DB_PASSWORD`, `${DB_PASSWORD}`,
 * `{{password}}`, `<token>`), not an object (`secretKeyRef: {…}`), not a mask already applied
 * (`****`, a placeholder).
 */
export function plausibleSecret(value: string): boolean {
  const v = value.replace(/^["']|["']$/g, '').trim();
  if (v.length < 3) return false;
  if (NOT_SECRETS.has(v.toLowerCase())) return false;
  if (/^\d{1,6}$/.test(v)) return false;
  if (/^\*+$/.test(v)) return false;
  if (/^(?:\$[A-Za-z_][A-Za-z0-9_]*$|\$\{|\{|<[^>]*>?$|\[REDACTED-)/.test(v)) return false;
  return true;
}
