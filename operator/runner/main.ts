import { runRunnerCli } from './cli.ts';

// Entry point of the run Job: `node operator/runner/main.ts --run-spec /etc/mfa-run/spec.json`.
process.exitCode = await runRunnerCli(process.argv.slice(2));
