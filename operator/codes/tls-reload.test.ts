import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../core/logging/logger.ts';
import { reloadEvery } from './tls-reload.ts';

interface Pair {
  cert: string;
  key: string;
}

/** A logger whose lines land in `lines`. */
function capturingLogger() {
  const lines: { level: number; msg: string; error?: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as (typeof lines)[number]);
      done();
    },
  });
  return { log: createLogger('t', { level: 'info' }, sink), lines };
}

/** Lets the reload's read and its then() settle after a tick of the fake clock. */
async function tick(ms: number) {
  await vi.advanceTimersByTimeAsync(ms);
}

describe('reloadEvery', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('serves a changed pair once, and nothing while it stays the same', async () => {
    const { log } = capturingLogger();
    let onDisk: Pair = { cert: 'c1', key: 'k1' };
    const applied: Pair[] = [];
    const timer = reloadEvery(
      1_000,
      {
        initial: onDisk,
        read: async () => onDisk,
        same: (a, b) => a.cert === b.cert && a.key === b.key,
        apply: (next) => applied.push(next),
        what: 'test certificate',
      },
      log,
    );
    await tick(3_000);
    onDisk = { cert: 'c2', key: 'k2' };
    await tick(3_000);
    clearInterval(timer);

    expect(applied).toEqual([{ cert: 'c2', key: 'k2' }]);
  });

  it('keeps serving, and tries again, when a renewal is read between its two files', async () => {
    const { log, lines } = capturingLogger();
    let onDisk: Pair = { cert: 'c1', key: 'k1' };
    const applied: Pair[] = [];
    const timer = reloadEvery(
      1_000,
      {
        initial: onDisk,
        read: async () => onDisk,
        same: (a, b) => a.cert === b.cert && a.key === b.key,
        apply: (next) => {
          // What setSecureContext does with a certificate and a key that do not belong together.
          if (next.cert.at(-1) !== next.key.at(-1)) throw new Error('key values mismatch');
          applied.push(next);
        },
        what: 'test certificate',
      },
      log,
    );
    onDisk = { cert: 'c2', key: 'k1' };
    await tick(2_500);
    onDisk = { cert: 'c2', key: 'k2' };
    await tick(1_000);
    clearInterval(timer);

    expect(applied).toEqual([{ cert: 'c2', key: 'k2' }]);
    const warnings = lines.filter((l) => l.level === 40);
    expect(warnings.length).toBeGreaterThanOrEqual(2);
    expect(warnings[0]).toMatchObject({
      msg: 'test certificate was read but does not make a secure context (certificate and key from different renewals?); keeping the current one',
      error: 'key values mismatch',
    });
    expect(lines.at(-1)).toMatchObject({ level: 30, msg: 'test certificate reloaded' });
  });

  it('keeps serving when the files cannot be read, and logs why', async () => {
    const { log, lines } = capturingLogger();
    const applied: Pair[] = [];
    const timer = reloadEvery(
      1_000,
      {
        initial: { cert: 'c1', key: 'k1' },
        read: () => Promise.reject(new Error('ENOENT: tls.crt')),
        same: () => false,
        apply: (next) => applied.push(next),
        what: 'test certificate',
      },
      log,
    );
    await tick(1_000);
    clearInterval(timer);

    expect(applied).toEqual([]);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 40,
        msg: 'test certificate could not be re-read; keeping the current one',
        error: 'ENOENT: tls.crt',
      }),
    ]);
  });
});
