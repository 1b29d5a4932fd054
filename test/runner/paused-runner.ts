import { runRunnerCli } from '../../operator/runner/cli.ts';
import type { RunStep } from '../../operator/run-contract/outcome.ts';

/**
 * The runner with fault hooks, for tests only (test/ is not part of the build):
 * - MFA_RUNNER_PAUSE_AFTER=<step>: prints `PAUSED <step>` on stderr after that step and waits forever, so the
 *   test can SIGKILL it at exactly that point;
 * - MFA_RUNNER_SIGTERM_AFTER=<step>: sends itself SIGTERM right after that step, as kubelet does at a Job's
 *   deadline or deletion, and carries on (the signal's handling decides what happens next).
 */
const pauseAfter = process.env.MFA_RUNNER_PAUSE_AFTER as RunStep | undefined;
const sigtermAfter = process.env.MFA_RUNNER_SIGTERM_AFTER as RunStep | undefined;

process.exitCode = await runRunnerCli(process.argv.slice(2), {
  afterStep: async (step) => {
    if (step === sigtermAfter) {
      // Delivery is asynchronous; waiting for it makes "right after that step" exact. The runner's listener
      // was registered first, so it has run when this one does.
      const delivered = new Promise((resolve) => process.once('SIGTERM', resolve));
      process.kill(process.pid, 'SIGTERM');
      await delivered;
    }
    if (step !== pauseAfter) return;
    process.stderr.write(`PAUSED ${step}\n`);
    await new Promise(() => setInterval(() => undefined, 60_000));
  },
});
