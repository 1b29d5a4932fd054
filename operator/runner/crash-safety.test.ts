import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readZip } from '../../connectors/sdk/trace-zip.ts';
import { decodeQrPng, QrNotFoundError } from '../../connectors/sdk/qr.ts';
import type { RunStep } from '../run-contract/outcome.ts';
import type { HazardSettings } from '../../test/apps/demo/hazards.ts';
import { codesSince, DemoRunFixture, expectNoSecrets } from '../../test/runner/demo-run-fixture.ts';
import { runRunnerProcess } from '../../test/runner/runner-process.ts';
import { RunCodeService } from '../../test/runner/run-code-service.ts';
import { InMemoryStore } from '../../test/automation/in-memory-store.ts';
import { moveMaterial } from '../automation/harvest.ts';
import { FileResultSink } from './file-sink.ts';
import type { ResultSink } from './result-sink.ts';
import type { TotpSeed } from '../../core/totp/totp-seed.ts';

/**
 * docs/architecture.md invariant 1: a runner killed at any step leaves MFA off, or MFA on with a seed in the
 * sink that still opens the account; once harvested, a re-run (a new Job: a fresh sink, codes from the code
 * service) then finishes (Enabled or Adopted).
 */
const KILL_POINTS: { after: RunStep; mfaOn: boolean; rerun: 'Enabled' | 'Adopted'; hazards?: HazardSettings }[] = [
  { after: 'beginEnrollment', mfaOn: false, rerun: 'Enabled' },
  { after: 'storePendingSeed', mfaOn: false, rerun: 'Enabled' },
  { after: 'confirmEnrollment', mfaOn: true, rerun: 'Adopted' },
  { after: 'markConfirmed', mfaOn: true, rerun: 'Adopted' },
  { after: 'storeRecoveryCodes', mfaOn: true, rerun: 'Adopted' },
  // An app that turns MFA on only once the codes are acknowledged is still off at this point.
  { after: 'storeRecoveryCodes', mfaOn: false, rerun: 'Enabled', hazards: { requireCodesAcknowledged: true } },
  { after: 'acknowledgeRecoveryCodes', mfaOn: true, rerun: 'Adopted', hazards: { requireCodesAcknowledged: true } },
];

describe('runner killed with SIGKILL at each step', () => {
  let fixture: DemoRunFixture;
  let codes: RunCodeService;
  const store = new InMemoryStore();
  beforeAll(async () => {
    fixture = await DemoRunFixture.start();
    codes = await RunCodeService.start(fixture.dir, store);
  });
  afterAll(async () => {
    await codes?.stop();
    await fixture?.close();
  });

  // Each case has its own account, files and store slot, and waits mostly on Chromium and TOTP windows: side by side.
  it.concurrent.for(KILL_POINTS)(
    'after $after $hazards: MFA on=$mfaOn, and a re-run ends $rerun',
    { timeout: 180_000 },
    async ({ after, mfaOn, rerun, hazards }, { expect }) => {
      const account = await fixture.account(hazards);
      const started = Date.now();

      const killed = await runRunnerProcess(account.specPath, join(fixture.dir, `${account.email}-killed.term`), {
        killAfter: after,
      });

      expect(killed.signal).toBe('SIGKILL');
      expect(account.mfaEnabled()).toBe(mfaOn);
      const stored = await account.sink.readSeed();
      if (mfaOn) expect(stored, 'MFA is on, so the seed must be in the sink').toBeDefined();
      // `confirmed` is promoted by the harvest and handed out as codes: it must mean the app turned MFA on with it.
      if (stored?.state === 'confirmed')
        expect(account.mfaEnabled(), 'a seed marked confirmed while MFA is off').toBe(true);

      // The operator harvests what the killed run left, then starts the re-run as a new Job.
      const ref = { namespace: 'default', name: 'acct', uid: randomUUID() };
      await moveMaterial(
        store,
        ref,
        'enable',
        { outcome: 'Failed', reason: 'RunnerCrashed', message: 'killed', retryable: true },
        {
          ...(stored ? { seed: stored.seed, seedState: stored.state } : {}),
        },
      );
      const rerunDir = join(fixture.dir, `${account.email}-rerun`);
      const rerunSpec = join(fixture.dir, `${account.email}-rerun.json`);
      await writeFile(
        rerunSpec,
        JSON.stringify({ ...account.spec, sink: { type: 'file', dir: rerunDir }, codeService: await codes.run(ref) }),
      );
      const rerunResult = await runRunnerProcess(rerunSpec, join(fixture.dir, `${account.email}-rerun.term`));

      expect(rerunResult.exitCode).toBe(0);
      expect(rerunResult.summary).toMatchObject({ outcome: rerun });
      expect(JSON.parse(rerunResult.terminationMessage)).toMatchObject({ outcome: rerun });
      expect(account.mfaEnabled()).toBe(true);
      const rerunSink = new FileResultSink(rerunDir);
      if (rerun === 'Adopted')
        expect(await rerunSink.readAdoptedSlot(), 'the re-run reports the store slot it adopted').toBeDefined();
      else expect((await rerunSink.readSeed())?.state).toBe('confirmed');
      const final = rerun === 'Adopted' ? stored! : (await rerunSink.readSeed())!;
      const recoveryCodes = (await account.sink.readRecoveryCodes())?.reveal() ?? [];
      expectNoSecrets(
        [killed.stdout, killed.stderr, rerunResult.stdout, rerunResult.stderr, rerunResult.terminationMessage],
        {
          strings: [
            account.password,
            final.seed.secret.reveal(),
            ...(stored ? [stored.seed.secret.reveal()] : []),
            ...recoveryCodes,
          ],
          codes: codesSince(final.seed, started),
        },
      );
    },
  );
});

describe('secret hygiene of failure artifacts', () => {
  let fixture: DemoRunFixture;
  beforeAll(async () => {
    fixture = await DemoRunFixture.start();
  });
  afterAll(async () => {
    await fixture?.close();
  });

  it('masks the QR code and setup key in the screenshot and scrubs the password from the trace', async () => {
    const account = await fixture.account({ stepUp: true });
    let shown: TotpSeed | undefined;
    const failingSink: ResultSink = {
      markAdopted: async () => undefined,
      writePendingSeed: async (seed) => {
        shown = seed;
        throw new Error('store offline');
      },
      markConfirmed: async () => undefined,
      writeRecoveryCodes: async () => undefined,
      markDisabled: async () => undefined,
    };
    const artifactsDir = join(fixture.dir, 'artifacts');

    const summary = await account.run({ artifactsDir }, failingSink);

    expect(summary).toMatchObject({ outcome: 'Failed', reason: 'SinkUnavailable' });
    expect(summary.artifacts).toEqual([join(artifactsDir, 'failure.png'), join(artifactsDir, 'trace.zip')]);
    expect(() => decodeQrPng(readFileSync(join(artifactsDir, 'failure.png')))).toThrow(QrNotFoundError);
    const traceTexts = readZip(await readFile(join(artifactsDir, 'trace.zip'))).map((entry) =>
      entry.data.toString('utf8'),
    );
    expect(traceTexts.join('')).toContain('"method":"fill"');
    expectNoSecrets([...traceTexts, JSON.stringify(summary), ...account.logLines], {
      strings: [account.password, shown!.secret.reveal()],
    });
  }, 90_000);
});
