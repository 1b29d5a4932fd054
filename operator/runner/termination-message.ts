import { writeFile } from 'node:fs/promises';
import { renderSummary, type OutcomeSummary } from '../run-contract/outcome.ts';

export const DEFAULT_TERMINATION_MESSAGE_PATH = '/dev/termination-log';

/** The summary on stdout and as the container's termination message, where the controller reads it. */
export async function publishSummary(
  summary: OutcomeSummary,
  terminationMessagePath: string,
  out: NodeJS.WritableStream,
): Promise<void> {
  const rendered = renderSummary(summary);
  out.write(`${rendered}\n`);
  try {
    await writeFile(terminationMessagePath, rendered, 'utf8');
  } catch (e: unknown) {
    // Outside a pod the default path does not exist; stdout still carries the summary.
    if (!(e instanceof Error && 'code' in e && (e.code === 'ENOENT' || e.code === 'EACCES' || e.code === 'EROFS')))
      throw e;
  }
}
