/** A failure the plugin reports as one line saying what to do, with a non-zero exit code. */
export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

export function isCliError(e: unknown): e is CliError {
  return e instanceof CliError;
}
