import type { CodeAnswer } from './code-service-client.ts';

const BAR_WIDTH = 30;

/** "123 456" / "1234 5678": easier to read off a screen and type. */
export function groupedCode(code: string): string {
  const half = Math.ceil(code.length / 2);
  return `${code.slice(0, half)} ${code.slice(half)}`;
}

/** One progress line: the code, a bar of the window's time left, and the seconds. */
export function countdownLine(answer: CodeAnswer, secondsRemaining: number): string {
  const left = Math.max(0, Math.min(answer.period, secondsRemaining));
  const filled = Math.round((left / answer.period) * BAR_WIDTH);
  return `${groupedCode(answer.code)}  ${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}  ${String(left).padStart(2)}s`;
}

export interface CountdownOptions {
  next(): Promise<CodeAnswer>;
  out: NodeJS.WritableStream & { isTTY?: boolean };
  signal: AbortSignal;
  now?: () => number;
}

/**
 * Shows the current code and redraws the line every second; asks for the next code when the
 * window ends. Without a terminal it prints one line per code instead of redrawing.
 */
export async function runCountdown(options: CountdownOptions): Promise<void> {
  const now = options.now ?? Date.now;
  const tty = options.out.isTTY === true;
  while (!options.signal.aborted) {
    const answer = await options.next();
    const expiresAt = now() + answer.secondsRemaining * 1000;
    if (!tty) options.out.write(`${countdownLine(answer, answer.secondsRemaining)}\n`);
    for (
      let left = answer.secondsRemaining;
      left > 0 && !options.signal.aborted;
      left = Math.ceil((expiresAt - now()) / 1000)
    ) {
      if (tty) options.out.write(`\r${countdownLine(answer, left)}\x1b[K`);
      await sleep(Math.min(1000, expiresAt - now()), options.signal);
    }
  }
  if (tty) options.out.write('\n');
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, Math.max(ms, 0));
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
