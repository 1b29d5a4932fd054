import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processUsedTotpWindows } from '../../core/totp/totp-codes.ts';
import { FileResultSink } from '../../operator/runner/file-sink.ts';
import { randomSeed } from '../stores/random-material.ts';
import { InMemoryStore } from '../automation/in-memory-store.ts';
import { DemoRunFixture } from './demo-run-fixture.ts';
import { RunCodeService } from './run-code-service.ts';

/**
 * A run signs in with the store's seed only through the operator's code service (issue 11, item 8). With the operator
 * down the run fails retryably before it touches the app; the next attempt, with the operator back, works. The run
 * never holds the seed: its result directory and log carry none.
 */
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

describe("a run while the operator's code service is down", () => {
  it('fails retryably before signing in, MFA untouched; the next attempt turns MFA off', async () => {
    const S0 = randomSeed({ issuer: 'Demo SaaS' });
    const ref = { namespace: 'default', name: 'acct', uid: randomUUID() };
    await store.promotePendingSeed(ref, (await store.writePendingSeed(ref, S0)).version);
    const account = await fixture.account(
      { mfaAlreadyOn: { seed: S0.secret.reveal() } },
      { action: 'disable', codeService: await codes.run(ref) },
    );

    await codes.down();
    const first = await account.run();
    await codes.up();

    expect(first).toMatchObject({ outcome: 'Failed', reason: 'CodeServiceUnavailable', retryable: true });
    expect(first.message).toContain('Nothing was changed on the app');
    expect(
      first.steps.map((s) => s.name),
      'the app was not touched',
    ).not.toContain('login');
    expect(account.mfaEnabled()).toBe(true);

    const dir = join(fixture.dir, `${account.email}-retry`);
    const retry = await account.run(
      { codeService: await codes.run(ref), sink: { type: 'file', dir } },
      new FileResultSink(dir),
    );

    expect(retry).toMatchObject({ outcome: 'Disabled', seed: { algorithm: 'SHA1', digits: 6, period: 30 } });
    expect(account.mfaEnabled()).toBe(false);
    expect(
      codes
        .auditRecords()
        .filter((r) => r.result === 'issued')
        .map((r) => r.slot),
    ).toContain('active');
    // A disable run that captured nothing may leave no file at all.
    const written = await Promise.all((await readdir(dir).catch(() => [])).map((f) => readFile(join(dir, f), 'utf8')));
    for (const text of [...written, ...account.logLines, ...codes.lines])
      expect(text.includes(S0.secret.reveal()), 'the stored seed reached the run').toBe(false);
  }, 150_000);
});

describe('a run whose next windows went to other automated logins', () => {
  it("waits out the code service's Retry-After once instead of failing", async () => {
    const S0 = randomSeed({ issuer: 'Demo SaaS' });
    const ref = { namespace: 'default', name: 'busy', uid: randomUUID() };
    await store.promotePendingSeed(ref, (await store.writePendingSeed(ref, S0)).version);
    const account = await fixture.account(
      { mfaAlreadyOn: { seed: S0.secret.reveal() } },
      { action: 'disable', codeService: await codes.run(ref) },
    );
    // Other logins (`kubectl mfa code --fresh`) took the next two windows: the first free one starts 60 to 90 s from
    // now, beyond the service's 35 s wait, so it answers NextWindowTooFar with a Retry-After under a minute.
    processUsedTotpWindows.remember(S0, Math.floor(Date.now() / 30_000) + 2);

    const summary = await account.run();

    expect(summary).toMatchObject({ outcome: 'Disabled' });
    expect(
      codes.auditRecords().some((r) => r.reason === 'NextWindowTooFar'),
      'the service refused once with NextWindowTooFar',
    ).toBe(true);
  }, 240_000);
});
