import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One CRI log line: `<time> <stream> <P|F> <text>`; P marks a line kubelet split, F its last part. */
const CRI_LINE = /^\S+ (?:stdout|stderr) ([PF]) (.*)$/;

/** A CRI log file's text as the container wrote it (kubelet's split lines joined again). */
export function criLogText(file: string): string {
  let text = '';
  for (const line of file.split('\n')) {
    const match = CRI_LINE.exec(line);
    if (match) text += match[1] === 'P' ? match[2] : `${match[2]}\n`;
  }
  return text;
}

async function logFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile() && e.name.endsWith('.log')).map((e) => join(e.parentPath, e.name));
}

/**
 * Keeps a copy of every container log kubelet writes under its pod log directory, read every second, so the
 * output of pods that are gone (force-deleted, garbage-collected with their Job) is still there for the leak scan.
 */
export class PodLogCollector {
  readonly #dir: string;
  readonly #seen = new Map<string, string>();
  readonly #timer: NodeJS.Timeout;
  #reading: Promise<void> = Promise.resolve();

  constructor(podLogsDir: string) {
    this.#dir = podLogsDir;
    this.#timer = setInterval(() => void this.collect(), 1000);
  }

  /** Reads every log file now; a file that shrank or went away keeps its longest copy. */
  collect(): Promise<void> {
    this.#reading = this.#reading.then(async () => {
      for (const file of await logFiles(this.#dir)) {
        const text = await readFile(file, 'utf8').catch(() => '');
        if (text.length >= (this.#seen.get(file)?.length ?? 0)) this.#seen.set(file, text);
      }
    });
    return this.#reading;
  }

  /** Every container's output so far, by log file path (`<namespace>_<pod>_<uid>/<container>/<n>.log`). */
  async output(): Promise<Map<string, string>> {
    await this.collect();
    return new Map([...this.#seen].map(([file, raw]) => [file, criLogText(raw)]));
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.collect();
  }
}
