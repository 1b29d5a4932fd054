import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.ts';

const MAIN = fileURLToPath(new URL('../../operator/main.ts', import.meta.url));

export interface OperatorProcess {
  readonly child: ChildProcess;
  /** Every line the operator wrote to stdout and stderr, in order. */
  readonly lines: string[];
  /** Log records (JSON lines) so far. */
  records(): Array<Record<string, unknown>>;
  waitForLog(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  httpPort(): Promise<number>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartOptions {
  /** The entry point; default the source (Node 24 strips the types), e.g. dist/operator/main.js as the image runs it. */
  main?: string;
}

/** Starts the operator exactly as `make run` does, by default from source. */
export function startOperator(
  kubeconfig: string,
  args: readonly string[] = [],
  env: NodeJS.ProcessEnv = {},
  options: StartOptions = {},
): OperatorProcess {
  const child = spawn(
    process.execPath,
    [options.main ?? MAIN, '--kubeconfig', kubeconfig, '--http-port', '0', ...args],
    {
      // No GCP metadata-server probing from tests: only loopback is ever a target here.
      env: { ...process.env, LOG_LEVEL: 'debug', METADATA_SERVER_DETECTION: 'none', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const lines: string[] = [];
  const collect = (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean));
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const records = () =>
    lines.flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  const waitForLog = (msg: string, timeoutMs = 30_000) =>
    waitFor(`operator log "${msg}"`, () => records().find((r) => r.msg === msg), timeoutMs);
  return {
    child,
    lines,
    records,
    waitForLog,
    httpPort: async () => (await waitForLog('serving /healthz, /readyz and /metrics')).port as number,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
