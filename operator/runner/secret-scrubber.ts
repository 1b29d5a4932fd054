import type { SecretValue } from '../../core/secrets/secret-value.ts';

const REDACTED = '[redacted]';
/** Short strings (a 6-digit code) are scrubbed too; anything shorter would mangle ordinary text. */
const MIN_SCRUB_LENGTH = 4;

/**
 * Defence in depth for text the runner did not write itself (third-party error messages): every
 * secret the run handled is removed from it before it is logged or reported. Typed secrets keep
 * values out of our own output; this catches a library that echoes an input back. The runner's
 * logger runs every line through it (operator/runner/cli.ts).
 */
export class SecretScrubber {
  readonly #values = new Set<string>();

  add(secret: SecretValue<string> | SecretValue<readonly string[]>): void {
    const value = secret.reveal();
    for (const text of typeof value === 'string' ? [value] : value) {
      if (text.length < MIN_SCRUB_LENGTH) continue;
      // Also as it appears inside a JSON log line and in a URL or form body.
      for (const form of [text, JSON.stringify(text).slice(1, -1), encodeURIComponent(text)]) this.#values.add(form);
    }
  }

  /** For the runner's logger: every line loses every secret added so far, including later ones. */
  readonly scrubLine = (line: string): string => this.scrub(line);

  scrub(text: string): string {
    let result = text;
    // Longest first, so a secret that contains another is removed whole.
    for (const value of [...this.#values].sort((a, b) => b.length - a.length)) {
      // A numeric code only as a whole number: "123456" inside a timestamp is not that code.
      result = /^\d+$/.test(value)
        ? result.replace(new RegExp(`(?<!\\d)${value}(?!\\d)`, 'g'), REDACTED)
        : result.split(value).join(REDACTED);
    }
    return result;
  }
}
