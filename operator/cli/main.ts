#!/usr/bin/env node
// `mfa-operator controller [flags]` runs the operator; `mfa-operator run --run-spec FILE` is what a run Job executes.
import { exitWith, runController } from '../main.ts';
import { runRunnerCli } from '../runner/cli.ts';

const USAGE = `usage: mfa-operator <command> [flags]
  controller [flags]        run the operator (see: mfa-operator controller --help)
  run --run-spec FILE       run one automation (what a run Job executes)`;

const [command, ...rest] = process.argv.slice(2);
if (command === 'controller') exitWith(runController(rest));
else if (command === 'run') process.exitCode = await runRunnerCli(rest);
else {
  process.stderr.write(`${command ? `unknown command "${command}"\n` : ''}${USAGE}\n`);
  process.exitCode = command === '--help' || command === '-h' ? 0 : 2;
}
