import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Field names that may carry a secret anywhere in a log object; pino replaces their values. */
export const REDACTED_FIELDS = [
  'password', 'seed', 'secret', 'code', 'codes', 'totp', 'otp', 'token', 'recoveryCodes',
  'authorization', 'otpauthUri', 'uri', 'data', 'stringData',
];

function redactPaths(): string[] {
  return REDACTED_FIELDS.flatMap((field) => [field, `*.${field}`, `*.*.${field}`]);
}

export function createLogger(name: string, options: LoggerOptions = {}, destination?: pino.DestinationStream): Logger {
  const base: LoggerOptions = {
    name,
    level: process.env.LOG_LEVEL ?? 'info',
    redact: { paths: redactPaths(), censor: '[redacted]' },
    ...options,
  };
  return destination ? pino(base, destination) : pino(base);
}
