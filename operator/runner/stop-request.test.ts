import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DemoRunFixture } from '../../test/runner/demo-run-fixture.ts';
import { runRunnerProcess } from '../../test/runner/runner-process.ts';
import { RunnerError } from './runner-errors.ts';
import { StopRequest } from './stop-request.ts';

describe('StopRequest', () => {
  it('lets steps run until a stop is requested, then refuses the next one with Terminated (retryable)', () => {
    const stop = StopRequest.manual();
    expect(() => stop.beforeStep('login')).not.toThrow();
    stop.afterStep('login');
    stop.request('SIGTERM');
    const refused = (() => {
      try {
        stop.beforeStep('readMfaState');
      } catch (e: unknown) {
        return e;
      }
    })();
    expect(refused).toBeInstanceOf(RunnerError);
    expect(refused).toMatchObject({ reason: 'Terminated', retryable: true });
    expect((refused as Error).message).toMatch(/asked to stop \(SIGTERM\) and stopped before step readMfaState/);
  });

  it('runs on from confirmEnrollment through markConfirmed, and from disableTotp through markDisabled', () => {
    const stop = StopRequest.manual();
    stop.beforeStep('confirmEnrollment');
    stop.request('SIGTERM');
    stop.afterStep('confirmEnrollment');
    for (const step of [
      'readRecoveryCodes',
      'storeRecoveryCodes',
      'acknowledgeRecoveryCodes',
      'markConfirmed',
    ] as const) {
      expect(() => stop.beforeStep(step)).not.toThrow();
      stop.afterStep(step);
    }
    expect(() => stop.beforeStep('verifyStoredSeed')).toThrow(/before step verifyStoredSeed/);

    const disabling = StopRequest.manual();
    disabling.beforeStep('disableTotp');
    disabling.request('SIGINT');
    disabling.afterStep('disableTotp');
    expect(() => disabling.beforeStep('markDisabled')).not.toThrow();
    disabling.afterStep('markDisabled');
    expect(() => disabling.beforeStep('login')).toThrow(/SIGINT/);
  });
});

describe('runner process on SIGTERM (kubelet stopping the pod)', () => {
  let fixture: DemoRunFixture;
  beforeAll(async () => {
    fixture = await DemoRunFixture.start();
  });
  afterAll(async () => {
    await fixture?.close();
  });

  it('before enrolment: stops at the next step with a Terminated outcome, MFA still off; a re-run enables', async () => {
    const account = await fixture.account();

    const stopped = await runRunnerProcess(account.specPath, join(fixture.dir, 'login-term.term'), {
      sigtermAfter: 'login',
    });

    expect(stopped.signal).toBeNull();
    expect(stopped.exitCode).toBe(1);
    expect(JSON.parse(stopped.terminationMessage)).toMatchObject({
      outcome: 'Failed',
      reason: 'Terminated',
      retryable: true,
    });
    expect(stopped.summary!.steps.map((s) => s.name).at(-1)).toBe('login');
    expect(account.mfaEnabled()).toBe(false);
    expect(await account.sink.readSeed()).toBeUndefined();
    expect(stopped.stderr).toMatch(/SIGTERM received: stopping at the next step that loses nothing/);

    const rerun = await runRunnerProcess(account.specPath, join(fixture.dir, 'login-rerun.term'));
    expect(rerun.summary).toMatchObject({ outcome: 'Enabled' });
  }, 120_000);

  it('after the app confirmed the seed: runs on through storing the codes and marking the seed confirmed, the end of the run', async () => {
    const account = await fixture.account();

    const stopped = await runRunnerProcess(account.specPath, join(fixture.dir, 'confirm-term.term'), {
      sigtermAfter: 'confirmEnrollment',
    });

    // Nothing follows markConfirmed in an enable run, so honouring the stop there is finishing it.
    expect(stopped.exitCode).toBe(0);
    expect(stopped.summary).toMatchObject({ outcome: 'Enabled' });
    expect(stopped.summary!.steps.map((s) => [s.name, s.result]).slice(-5)).toEqual([
      ['confirmEnrollment', 'ok'],
      ['readRecoveryCodes', 'ok'],
      ['storeRecoveryCodes', 'ok'],
      ['acknowledgeRecoveryCodes', 'ok'],
      ['markConfirmed', 'ok'],
    ]);
    expect(stopped.stderr).toMatch(/SIGTERM received: stopping at the next step that loses nothing/);
    expect(account.mfaEnabled()).toBe(true);
    expect((await account.sink.readSeed())?.state).toBe('confirmed');
    // Under SIGKILL at this point the codes, shown once, would be lost; here they were kept.
    expect((await account.sink.readRecoveryCodes())?.reveal().length).toBeGreaterThan(0);
  }, 120_000);
});
