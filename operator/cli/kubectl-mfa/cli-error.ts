/**
 * The plugin's exit codes, the same for every command, so a script can tell what to do next without reading
 * stderr: 1 is any other failure (unreachable, refused, not found).
 */
export const EXIT = {
  failed: 1,
  usage: 2,
  /** Rate-limited, or the service cannot answer now (503): the same request may succeed later. */
  retryLater: 3,
  /** The account has no stored recovery codes. */
  noRecoveryCodes: 4,
  /** Every stored recovery code has been handed out. */
  recoveryCodesUsedUp: 5,
} as const;

/** A failure the plugin reports as one line saying what to do, with a non-zero exit code. */
export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode: number = EXIT.failed) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

export function isCliError(e: unknown): e is CliError {
  return e instanceof CliError;
}
