import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Browser } from 'playwright-core';
import { expect } from 'vitest';
import { connectors } from '../../index.ts';
import { launchBrowser } from '../browser.ts';
import type { ConnectorRegistry } from '../registry.ts';
import { createLogger, type Logger } from '../../../core/logging/logger.ts';
import { FileResultSink } from '../../../operator/runner/file-sink.ts';
import type { OutcomeSummary } from '../../../operator/run-contract/outcome.ts';
import type { ResultSink } from '../../../operator/runner/result-sink.ts';
import { performRun } from '../../../operator/runner/run.ts';
import type { RunSpec } from '../../../operator/run-contract/run-spec.ts';
import { runRunnerProcess, type RunnerFault, type RunnerProcessResult } from '../../../test/runner/runner-process.ts';

/**
 * The connector test kit: one Chromium and a scratch directory for a test file, an account per
 * test (credential files, a run spec, a file sink, the run's log lines), the runner in-process or
 * as its own process killed after a step, and the checks every connector owes (see
 * docs/connectors.md, "Testing a connector"). Tests only: not part of the build.
 */
export class ConnectorRunKit {
  readonly connector: string;
  readonly browser: Browser;
  readonly dir: string;
  /** Where runs find the connector: the repository's registry, or a test's own (a SaaS connector with loopback hosts). */
  readonly registry: ConnectorRegistry;
  #accounts = 0;

  private constructor(connector: string, browser: Browser, dir: string, registry: ConnectorRegistry) {
    this.connector = connector;
    this.browser = browser;
    this.dir = dir;
    this.registry = registry;
  }

  static async start(connector: string, options: { registry?: ConnectorRegistry } = {}): Promise<ConnectorRunKit> {
    // Settled, not all: a browser that fails to start must not leave the directory behind, nor the reverse.
    const [browser, dir] = await Promise.allSettled([
      launchBrowser(),
      mkdtemp(join(tmpdir(), `mfa-${connector}-test-`)),
    ]);
    if (browser.status === 'rejected' || dir.status === 'rejected') {
      if (browser.status === 'fulfilled') await browser.value.close();
      if (dir.status === 'fulfilled') await rm(dir.value, { recursive: true, force: true });
      throw browser.status === 'rejected' ? browser.reason : (dir as PromiseRejectedResult).reason;
    }
    return new ConnectorRunKit(connector, browser.value, dir.value, options.registry ?? connectors);
  }

  /** Files and a spec for an account the test has created in the app; `spec` adds to or overrides the spec. */
  async account(
    username: string,
    password: string,
    loginUrl: string,
    spec: Partial<RunSpec> = {},
  ): Promise<RunAccount> {
    const n = ++this.#accounts;
    const usernameFile = join(this.dir, `username-${n}`);
    const passwordFile = join(this.dir, `password-${n}`);
    await writeFile(usernameFile, `${username}\n`, { mode: 0o600 });
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
    const resultDir = join(this.dir, `result-${n}`);
    const full: RunSpec = {
      connector: this.connector,
      loginUrl,
      credentials: { usernameFile, passwordFile },
      sink: { type: 'file', dir: resultDir },
      action: 'enable',
      ...spec,
    };
    const specPath = join(this.dir, `spec-${n}.json`);
    await writeFile(specPath, JSON.stringify(full));
    return new RunAccount(this, username, password, full, specPath, new FileResultSink(resultDir));
  }

  async close(): Promise<void> {
    await this.browser.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}

export class RunAccount {
  readonly kit: ConnectorRunKit;
  readonly username: string;
  readonly password: string;
  readonly spec: RunSpec;
  readonly specPath: string;
  readonly sink: FileResultSink;
  /** Every log line the in-process runs of this account wrote. */
  readonly logLines: string[] = [];

  constructor(
    kit: ConnectorRunKit,
    username: string,
    password: string,
    spec: RunSpec,
    specPath: string,
    sink: FileResultSink,
  ) {
    this.kit = kit;
    this.username = username;
    this.password = password;
    this.spec = spec;
    this.specPath = specPath;
    this.sink = sink;
  }

  logger(): Logger {
    const lines = this.logLines;
    return createLogger(
      'runner',
      {},
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
  }

  /** The runner in this process, on the kit's Chromium; `sink` replaces the account's own (e.g. an empty one). */
  run(overrides: Partial<RunSpec> = {}, sink: ResultSink = this.sink): Promise<OutcomeSummary> {
    return performRun({ ...this.spec, ...overrides }, sink, {
      connectors: this.kit.registry,
      logger: this.logger(),
      browser: this.kit.browser,
    });
  }

  /** The runner as a Job runs it, in its own process; `fault` kills it (or sends SIGTERM) right after a step. */
  runProcess(fault?: RunnerFault): Promise<RunnerProcessResult> {
    return runRunnerProcess(this.specPath, join(this.kit.dir, `termination-${this.username}`), fault);
  }

  /** Write a password the app will refuse, for the wrong-password check. */
  async breakPassword(): Promise<void> {
    await writeFile(this.spec.credentials.passwordFile, 'not-the-password\n');
  }
}

/**
 * The hazard checks: a run that must stop, stopped with `reason` and left nothing confirmed in
 * the sink (a confirmed seed with MFA off, or the reverse, is the one state the operator must
 * never leave behind).
 */
export async function expectStopped(
  summary: OutcomeSummary,
  account: RunAccount,
  reason: string,
  retryable = false,
): Promise<void> {
  expect(summary).toMatchObject({ outcome: 'Failed', reason, retryable });
  expect((await account.sink.readSeed())?.state).not.toBe('confirmed');
}

/**
 * For an app the repository cannot bundle (a SaaS, a licensed server): where its tests find it,
 * or why they cannot. `paths` must all exist (an installed release, a URL file written by the
 * person running the tests). The reason goes in the skipped suite's name, so the run says what is
 * missing and how to provide it instead of failing on a connection error.
 */
export async function appAbsence(
  app: string,
  paths: readonly string[],
  howToProvide: string,
): Promise<string | undefined> {
  for (const path of paths) {
    try {
      await access(path);
    } catch {
      return `${app} is not available here (${path} is missing): ${howToProvide}`;
    }
  }
  return undefined;
}
