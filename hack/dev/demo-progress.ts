/** Progress lines for `make demo`: a spinner with elapsed seconds on a terminal, plain lines elsewhere. */
export class Progress {
  readonly #tty = Boolean(process.stdout.isTTY);
  #timer?: NodeJS.Timeout;
  #started = 0;
  #text = '';

  step(text: string): void {
    this.done();
    this.#text = text;
    this.#started = Date.now();
    if (!this.#tty) {
      process.stdout.write(`… ${text}\n`);
      return;
    }
    const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
    let i = 0;
    this.#timer = setInterval(() => {
      process.stdout.write(`\r${frames[i++ % frames.length]} ${this.#text} (${this.#elapsed()})\x1b[K`);
    }, 100);
  }

  /** Replaces the current line's text (e.g. the latest condition) without starting a new step. */
  update(text: string): void {
    if (text === this.#text) return;
    this.#text = text;
    if (!this.#tty) process.stdout.write(`  ${text}\n`);
  }

  done(): void {
    if (!this.#text) return;
    clearInterval(this.#timer);
    process.stdout.write(`${this.#tty ? '\r' : ''}✓ ${this.#text} (${this.#elapsed()})${this.#tty ? '\x1b[K' : ''}\n`);
    this.#text = '';
  }

  #elapsed(): string {
    return `${((Date.now() - this.#started) / 1000).toFixed(1)} s`;
  }
}
