// Fake credentials of the kinds responders paste into incidents, built when the test runs from a
// seeded generator: realistic in shape (so a scanner must really recognise them), but no such
// value is written in the repository, where another tool's secret scanner would flag it.

export interface Pasted {
  /** What the test calls it. */
  name: string;
  /** The text as a responder would paste it. */
  text: string;
  /** The parts that must never leave the machine. */
  secrets: string[];
}

/** A small deterministic generator (mulberry32), so a failure names the same values every run. */
export function generator(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = (alphabet: string, n: number) => Array.from({ length: n }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    alnum: (n: number) => pick('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', n),
    letters: (n: number) => pick('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', n),
    url: (n: number) => pick('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-', n),
    upper: (n: number) => pick('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', n),
    digits: (n: number) => pick('0123456789', n),
    hex: (n: number) => pick('0123456789abcdef', n),
    base64: (n: number) => pick('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', n),
  };
}

const b64url = (s: string) => Buffer.from(s).toString('base64url');

/** At least a dozen kinds; `seed` varies the values between suites. */
export function secretCorpus(seed = 7): Pasted[] {
  const g = generator(seed);
  const pemBody = Array.from({ length: 8 }, () => g.base64(64)).join('\n');
  const pkcs8Body = Array.from({ length: 6 }, () => g.base64(64)).join('\\n');
  const jwt = `${b64url('{"alg":"HS256","typ":"JWT"}')}.${b64url(`{"sub":"${g.alnum(10)}","role":"admin"}`)}.${g.alnum(43)}`;
  const password = `${g.alnum(10)}!${g.digits(3)}`;
  const awsId = ['AK', 'IA', g.upper(16)].join('');
  const awsSecret = g.base64(40);
  const stripe = ['sk', 'live', g.alnum(24)].join('_');
  const github = ['gh', 'p_', g.alnum(36)].join('');
  const slackBot = ['xox' + 'b', g.digits(12), g.digits(13), g.alnum(24)].join('-');
  const slackHook = `https://hooks.${'slack'}.com/services/T${g.upper(10)}/B${g.upper(10)}/${g.alnum(24)}`;
  const bearer = g.alnum(40);
  const k8sJson = g.alnum(18);
  const k8sYaml = g.alnum(22);
  const dbPassword = g.alnum(16);
  const gcpKeyId = g.hex(40);
  const npm = ['np', 'm_', g.alnum(36)].join('');
  const basicUrl = g.alnum(14);
  const basicHeader = Buffer.from(`deploy:${g.alnum(12)}`).toString('base64');
  return [
    { name: 'password= in a note', text: `tried the admin login with password=${password} and it worked`, secrets: [password] },
    { name: 'AWS access key id', text: `the leaked key id was ${awsId}`, secrets: [awsId] },
    { name: 'AWS secret access key', text: `aws_secret_access_key = ${awsSecret}`, secrets: [awsSecret] },
    { name: 'Stripe live key', text: `payments used ${stripe} from the old config`, secrets: [stripe] },
    { name: 'GitHub token', text: `CI clones with ${github}`, secrets: [github] },
    { name: 'Slack bot token', text: `the bot token ${slackBot} was in the env`, secrets: [slackBot] },
    { name: 'Slack webhook URL', text: `alerts go to ${slackHook}`, secrets: [slackHook.split('/').at(-1)!] },
    { name: 'PEM private key', text: `found on the box:\n-----BEGIN RSA PRIVATE KEY-----\n${pemBody}\n-----END RSA PRIVATE KEY-----\nin /etc/ssl`, secrets: pemBody.split('\n') },
    { name: 'Bearer token', text: `curl -H "Authorization: Bearer ${bearer}" https://api.internal/v1/orders`, secrets: [bearer] },
    { name: 'k8s env pair (JSON)', text: `pod spec has {"name":"DB_PASSWORD","value":"${k8sJson}"} in plain text`, secrets: [k8sJson] },
    { name: 'k8s env pair (YAML)', text: `env:\n  - name: API_TOKEN\n    value: ${k8sYaml}\n  - name: LOG_LEVEL\n    value: debug`, secrets: [k8sYaml] },
    { name: 'connection string', text: `DATABASE_URL=postgres://checkout:${dbPassword}@db.internal:5432/shop`, secrets: [dbPassword] },
    { name: 'JWT', text: `session cookie was ${jwt}`, secrets: [jwt, jwt.split('.')[2]] },
    {
      name: 'GCP service-account key',
      text: `{"type": "service_account", "project_id": "shop-prod", "private_key_id": "${gcpKeyId}", "private_key": "-----BEGIN PRIVATE KEY-----\\n${pkcs8Body}\\n-----END PRIVATE KEY-----\\n", "client_email": "ci@shop-prod.iam.gserviceaccount.com"}`,
      secrets: [gcpKeyId, ...pkcs8Body.split('\\n')],
    },
    { name: 'npm token', text: `//registry.npmjs.org/:_authToken was ${npm}`, secrets: [npm] },
    { name: 'basic auth in a URL', text: `git clone https://deploy:${basicUrl}@git.example.com/shop.git`, secrets: [basicUrl] },
    { name: 'Authorization: Basic', text: `Authorization: Basic ${basicHeader}`, secrets: [basicHeader] },
  ];
}

/** Every secret of the corpus that occurs in `text`, by the name of its kind. */
export function leaks(corpus: Pasted[], text: string): string[] {
  return corpus.flatMap((p) => p.secrets.filter((s) => text.includes(s)).map((s) => `${p.name}: ${s.slice(0, 12)}…`));
}
