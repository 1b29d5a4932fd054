#!/usr/bin/env node
import { parseConfig, USAGE } from './config.ts';
import { createLogger } from '../core/logging/logger.ts';
import { OperatorManager } from './manager.ts';

const log = createLogger('mfa-operator');

/** Runs the controller until SIGTERM/SIGINT (graceful: in-flight reconciles finish, the lease is released). */
export async function runController(argv: string[]): Promise<number> {
  let config;
  try {
    config = parseConfig(argv);
  } catch (err: unknown) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}\n`);
    return 2;
  }
  const manager = new OperatorManager(config, log);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      log.info({ signal }, 'shutting down');
      manager.stop();
    });
  }
  return manager.run();
}

export function exitWith(run: Promise<number>): void {
  run.then(
    (code) => process.exit(code),
    (err: unknown) => {
      log.fatal({ err: err instanceof Error ? err.message : String(err) }, 'operator failed');
      process.exit(1);
    },
  );
}

// The image's command: `node dist/operator/main.js [flags]`.
if (import.meta.main) exitWith(runController(process.argv.slice(2)));
