import { runRunnerCli } from '../../operator/runner/cli.ts';
import type { RunStep } from '../../operator/runner/steps.ts';

/**
 * The runner with a crash-test hook, for tests only (test/ is not part of the build): with
 * MFA_RUNNER_PAUSE_AFTER=<step> it prints `PAUSED <step>` on stderr after that step and waits
 * forever, so the test can SIGKILL it at exactly that point.
 */
const pauseAfter = process.env.MFA_RUNNER_PAUSE_AFTER as RunStep | undefined;

process.exitCode = await runRunnerCli(process.argv.slice(2), {
  afterStep: async (step) => {
    if (step !== pauseAfter) return;
    process.stderr.write(`PAUSED ${step}\n`);
    await new Promise(() => setInterval(() => undefined, 60_000));
  },
});
