#!/usr/bin/env node
import { parseConfig, USAGE } from './config.ts';
import { createLogger } from './logging/logger.ts';
import { OperatorManager } from './manager.ts';

const log = createLogger('mfa-operator');

async function main(): Promise<number> {
  let config;
  try {
    config = parseConfig(process.argv.slice(2));
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

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log.fatal({ err: err instanceof Error ? err.message : String(err) }, 'operator failed');
    process.exit(1);
  },
);
