// Masks secret values in text, including across the chunk boundaries of a stream.

export const MASK = '****';

export class Redactor {
  private readonly secrets: string[];

  constructor(secrets: Iterable<string>) {
    // Longest first, so a secret that contains another is masked whole. Very short values would
    // mask ordinary words; they are still masked, but only values of 3+ characters are treated as secret.
    this.secrets = [...new Set([...secrets].filter((s) => s.length >= 3))].sort((a, b) => b.length - a.length);
  }

  /** A secret learned later (an answer typed at a secret prompt). */
  add(secret: string): void {
    if (secret.length >= 3 && !this.secrets.includes(secret)) {
      this.secrets.push(secret);
      this.secrets.sort((a, b) => b.length - a.length);
    }
  }

  get active(): boolean {
    return this.secrets.length > 0;
  }

  /** The longest secret's length: how much a stream must hold back before it can emit safely. */
  get holdBack(): number {
    return this.secrets.length ? this.secrets[0].length - 1 : 0;
  }

  mask(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join(MASK);
    return out;
  }

  /** A streaming masker: push chunks, get back what is safe to emit; flush at the end. */
  stream(): { push(chunk: string): string; flush(): string } {
    let pending = '';
    return {
      push: (chunk: string) => {
        if (!this.active) return chunk;
        pending += chunk;
        const masked = this.mask(pending);
        // Keep the tail that could be the start of a secret split across chunks.
        const keep = Math.min(this.holdBack, masked.length);
        const emit = masked.slice(0, masked.length - keep);
        pending = masked.slice(masked.length - keep);
        return emit;
      },
      flush: () => {
        const rest = this.mask(pending);
        pending = '';
        return rest;
      },
    };
  }
}
