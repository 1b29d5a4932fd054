import { isConnectorError } from '../errors.ts';

/** The ConnectorError reason a step failed with, or 'no error'; any other error is rethrown. */
export async function reasonOf(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (e: unknown) {
    if (isConnectorError(e)) return e.reason;
    throw e;
  }
  return 'no error';
}
