import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Browser } from 'playwright-core';
import { startDemoApp, type DemoApp, type DemoAppOptions } from '../apps/demo/demo-app.ts';
import type { HazardSettings } from '../apps/demo/hazards.ts';
import { launchBrowser } from '../../connectors/sdk/browser.ts';
import { connectors } from '../../connectors/index.ts';
import { createLogger, type Logger } from '../../core/logging/logger.ts';
import { FileResultSink } from '../../operator/runner/file-sink.ts';
import type { OutcomeSummary } from '../../operator/run-contract/outcome.ts';
import type { ResultSink } from '../../operator/runner/result-sink.ts';
import { performRun, type RunnerDeps } from '../../operator/runner/run.ts';
import type { RunSpec } from '../../operator/run-contract/run-spec.ts';

// The runner tests take these from here with the fixture; they are the SDK's test kit.
export { codesSince, expectNoSecrets } from '../../connectors/sdk/testing/secrets.ts';

/** The demo app, one shared Chromium and a scratch directory: what runner tests run against. */
export class DemoRunFixture {
  readonly app: DemoApp;
  readonly browser: Browser;
  readonly dir: string;
  #accounts = 0;

  private constructor(app: DemoApp, browser: Browser, dir: string) {
    this.app = app;
    this.browser = browser;
    this.dir = dir;
  }

  /** `app` adds demo app options, e.g. `tls` to serve HTTPS. */
  static async start(app: Omit<DemoAppOptions, 'logger'> = {}): Promise<DemoRunFixture> {
    const [demo, browser, dir] = await Promise.all([
      startDemoApp({ ...app, logger: createLogger('demo-app', { level: 'silent' }) }),
      launchBrowser(),
      mkdtemp(join(tmpdir(), 'mfa-runner-')),
    ]);
    return new DemoRunFixture(demo, browser, dir);
  }

  /** A fresh account (own email, password, sink and credential files) so tests cannot disturb each other. */
  async account(hazards: HazardSettings = {}, specOverrides: Partial<RunSpec> = {}): Promise<DemoAccount> {
    const n = ++this.#accounts;
    const email = `user${n}@example.com`;
    const password = `pw-${n}-${Math.random().toString(36).slice(2)}-horse`;
    this.app.accounts.upsert({ email, password, hazards });
    const dir = join(this.dir, `account-${n}`);
    await writeFile(join(this.dir, `username-${n}`), `${email}\n`, { mode: 0o600 });
    await writeFile(join(this.dir, `password-${n}`), `${password}\n`, { mode: 0o600 });
    const spec: RunSpec = {
      connector: 'demo',
      loginUrl: `${this.app.url}/login`,
      credentials: { usernameFile: join(this.dir, `username-${n}`), passwordFile: join(this.dir, `password-${n}`) },
      sink: { type: 'file', dir: join(dir, 'result') },
      action: 'enable',
      ...specOverrides,
    };
    const specPath = join(this.dir, `spec-${n}.json`);
    await writeFile(specPath, JSON.stringify(spec));
    return new DemoAccount(this, email, password, spec, specPath);
  }

  async close(): Promise<void> {
    await Promise.all([this.browser.close(), this.app.stop()]);
    await rm(this.dir, { recursive: true, force: true });
  }
}

export class DemoAccount {
  readonly fixture: DemoRunFixture;
  readonly email: string;
  readonly password: string;
  readonly spec: RunSpec;
  readonly specPath: string;
  readonly sink: FileResultSink;
  /** Every log line the in-process runs of this account wrote. */
  readonly logLines: string[] = [];

  constructor(fixture: DemoRunFixture, email: string, password: string, spec: RunSpec, specPath: string) {
    this.fixture = fixture;
    this.email = email;
    this.password = password;
    this.spec = spec;
    this.specPath = specPath;
    // The fixture always writes file sinks (see account()).
    this.sink = new FileResultSink((spec.sink as { dir: string }).dir);
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

  /** Run the runner in this process against the shared browser. */
  async run(
    overrides: Partial<RunSpec> = {},
    sink: ResultSink | undefined = undefined,
    deps: Partial<RunnerDeps> = {},
  ): Promise<OutcomeSummary> {
    return performRun({ ...this.spec, ...overrides }, sink ?? this.sink, {
      connectors,
      logger: this.logger(),
      browser: this.fixture.browser,
      ...deps,
    });
  }

  mfaEnabled(): boolean {
    return this.fixture.app.accounts.status(this.email).mfa.enabled;
  }
}
