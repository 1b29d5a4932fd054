import { describe, expect, it } from 'vitest';
import { SecretValue } from '../secrets/secret-value.ts';
import { generateTotpCode, TotpCodeSource, UsedTotpWindows, type Clock } from './totp-codes.ts';
import type { TotpAlgorithm, TotpSeed } from './totp-seed.ts';

function base32OfAscii(ascii: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const byte of Buffer.from(ascii, 'ascii')) bits += byte.toString(2).padStart(8, '0');
  let out = '';
  for (let i = 0; i < bits.length; i += 5) out += alphabet[parseInt(bits.slice(i, i + 5).padEnd(5, '0'), 2)];
  return out;
}

// RFC 6238 appendix B: ASCII seeds of 20, 32 and 64 bytes, 8 digits, 30 s period.
const RFC_SEEDS: Record<TotpAlgorithm, string> = {
  SHA1: '12345678901234567890',
  SHA256: '12345678901234567890123456789012',
  SHA512: '1234567890123456789012345678901234567890123456789012345678901234',
};
const RFC_VECTORS: [number, Record<TotpAlgorithm, string>][] = [
  [59, { SHA1: '94287082', SHA256: '46119246', SHA512: '90693936' }],
  [1111111109, { SHA1: '07081804', SHA256: '68084774', SHA512: '25091201' }],
  [1111111111, { SHA1: '14050471', SHA256: '67062674', SHA512: '99943326' }],
  [1234567890, { SHA1: '89005924', SHA256: '91819424', SHA512: '93441116' }],
  [2000000000, { SHA1: '69279037', SHA256: '90698825', SHA512: '38618901' }],
  [20000000000, { SHA1: '65353130', SHA256: '77737706', SHA512: '47863826' }],
];

function rfcSeed(algorithm: TotpAlgorithm): TotpSeed {
  return { secret: new SecretValue(base32OfAscii(RFC_SEEDS[algorithm])), algorithm, digits: 8, period: 30 };
}

describe('generateTotpCode', () => {
  for (const [seconds, expected] of RFC_VECTORS) {
    for (const algorithm of ['SHA1', 'SHA256', 'SHA512'] as const) {
      it(`matches RFC 6238 for ${algorithm} at T=${seconds}`, () => {
        expect(generateTotpCode(rfcSeed(algorithm), seconds * 1000).reveal()).toBe(expected[algorithm]);
      });
    }
  }
});

class FakeClock implements Clock {
  time: number;
  readonly sleeps: number[] = [];
  constructor(time: number) {
    this.time = time;
  }
  now(): number {
    return this.time;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.time += ms;
  }
}

describe('TotpCodeSource', () => {
  const seed = rfcSeed('SHA1');

  it('submits at once when the window has time left', async () => {
    const clock = new FakeClock(1111111109_000 - 20_000);
    const code = await new TotpCodeSource(seed, { clock, usedWindows: new UsedTotpWindows() }).totpCode();
    expect(clock.sleeps).toEqual([]);
    expect(code.reveal()).toBe(generateTotpCode(seed, clock.time).reveal());
  });

  it('waits for the next window near the window edge', async () => {
    const clock = new FakeClock(30_000 * 1000 + 28_000);
    await new TotpCodeSource(seed, { clock, usedWindows: new UsedTotpWindows() }).totpCode();
    expect(clock.sleeps).toHaveLength(1);
    expect(Math.floor(clock.time / 30_000)).toBe(1001);
  });

  it('never hands out two codes from the same window, even from two sources', async () => {
    const clock = new FakeClock(30_000 * 1000 + 1_000);
    const used = new UsedTotpWindows();
    const first = await new TotpCodeSource(seed, { clock, usedWindows: used }).totpCode();
    const second = await new TotpCodeSource(seed, { clock, usedWindows: used }).totpCode();
    expect(second.reveal()).not.toBe(first.reveal());
    expect(Math.floor(clock.time / 30_000)).toBe(1001);
  });

  it('keeps windows of different seeds apart', async () => {
    const clock = new FakeClock(30_000 * 1000 + 1_000);
    const used = new UsedTotpWindows();
    await new TotpCodeSource(seed, { clock, usedWindows: used }).totpCode();
    await new TotpCodeSource(rfcSeed('SHA256'), { clock, usedWindows: used }).totpCode();
    expect(clock.sleeps).toEqual([]);
  });
});
