import { pino, type Logger, type LoggerOptions } from 'pino';
import { redactFields, redactSecretShapes } from './redact.ts';

export type { Logger };

type ChildFunction = (this: unknown, bindings: pino.Bindings, options?: object) => unknown;

export interface LogOptions extends LoggerOptions {
  /**
   * Removes known secret values from each finished line (message, fields, errors, bindings).
   * The runner passes its SecretScrubber, which holds every secret the run has handled.
   */
  scrub?: (line: string) => string;
}

/**
 * A JSON logger that cannot print a secret it was handed by mistake: secret-named fields are
 * redacted at any depth (also in child bindings and errors), and every line, message included,
 * loses anything shaped like a secret (bearer tokens, JWTs, otpauth URIs, private keys) and
 * every value `scrub` knows.
 */
export function createLogger(name: string, options: LogOptions = {}, destination?: pino.DestinationStream): Logger {
  const { scrub, ...pinoOptions } = options;
  const base: LoggerOptions = {
    name,
    level: process.env.LOG_LEVEL ?? 'info',
    ...pinoOptions,
    // Errors arrive here already turned into plain, redacted objects.
    serializers: { err: (err: unknown) => err, ...pinoOptions.serializers },
    formatters: {
      ...pinoOptions.formatters,
      log: (object) =>
        redactFields(pinoOptions.formatters?.log ? pinoOptions.formatters.log(object) : object) as Record<
          string,
          unknown
        >,
      bindings: (bindings) =>
        redactFields(
          pinoOptions.formatters?.bindings ? pinoOptions.formatters.bindings(bindings) : bindings,
        ) as pino.Bindings,
    },
    hooks: {
      ...pinoOptions.hooks,
      streamWrite: (line) => {
        const shaped = redactSecretShapes(pinoOptions.hooks?.streamWrite ? pinoOptions.hooks.streamWrite(line) : line);
        return scrub ? scrub(shaped) : shaped;
      },
    },
  };
  const logger = destination ? pino(base, destination) : pino(base);
  // pino formats only the root's bindings; children (and theirs, through the prototype) come here.
  const child = logger.child as unknown as ChildFunction;
  const redactedChild: ChildFunction = function (this: unknown, bindings, childOptions) {
    return child.call(this, redactFields(bindings) as pino.Bindings, childOptions);
  };
  logger.child = redactedChild as unknown as Logger['child'];
  return logger;
}
