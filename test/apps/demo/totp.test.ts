import { describe, expect, it } from 'vitest';
import { DEFAULT_TOTP, InvalidHazardError, mergeHazards, NO_HAZARDS } from './hazards.ts';
import { codeAt } from './client/flows.ts';
import { checkCode, displayedKey, existingTotpCredential, newTotpCredential, otpauthUri } from './totp.ts';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 15);
const SEED = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

describe('TOTP verification', () => {
  it('accepts codes one step either side of now and refuses two steps away', () => {
    for (const offset of [-30, 0, 30]) {
      const credential = existingTotpCredential({ seed: SEED });
      expect(checkCode(credential, codeAt(SEED, NOW + offset * 1000), NOW)).toBe('accepted');
    }
    for (const offset of [-60, 60]) {
      const credential = existingTotpCredential({ seed: SEED });
      expect(checkCode(credential, codeAt(SEED, NOW + offset * 1000), NOW)).toBe('wrong');
    }
  });

  it('refuses a code of the same or an earlier step once one was accepted', () => {
    const credential = existingTotpCredential({ seed: SEED });
    expect(checkCode(credential, codeAt(SEED, NOW), NOW)).toBe('accepted');
    expect(checkCode(credential, codeAt(SEED, NOW), NOW)).toBe('replayed');
    expect(checkCode(credential, codeAt(SEED, NOW - 30_000), NOW)).toBe('replayed');
    expect(checkCode(credential, codeAt(SEED, NOW + 30_000), NOW)).toBe('accepted');
  });

  it('refuses codes of the wrong length or with letters', () => {
    const credential = existingTotpCredential({ seed: SEED });
    const code = codeAt(SEED, NOW);
    expect(checkCode(credential, `${code}0`, NOW)).toBe('wrong');
    expect(checkCode(credential, 'abcdef', NOW)).toBe('wrong');
    expect(checkCode(credential, ` ${code.slice(0, 3)} ${code.slice(3)} `, NOW)).toBe('accepted');
  });

  it('makes 20-byte seeds, or 16-byte seeds with = padding that the URI keeps', () => {
    const plain = newTotpCredential(DEFAULT_TOTP, { padded: false });
    expect(plain.seed.reveal()).toMatch(/^[A-Z2-7]{32}$/);
    const padded = newTotpCredential(DEFAULT_TOTP, { padded: true });
    expect(padded.seed.reveal()).toMatch(/^[A-Z2-7]{26}={6}$/);
    expect(otpauthUri(padded, 'a@example.com').reveal()).toContain(`secret=${padded.seed.reveal()}&`);
    expect(checkCode(padded, codeAt(padded.seed.reveal(), NOW), NOW)).toBe('accepted');
  });

  it('shows the key lower case in groups of four on request', () => {
    expect(displayedKey(existingTotpCredential({ seed: SEED }), true).reveal()).toBe(
      'jbsw y3dp ehpk 3pxp jbsw y3dp ehpk 3pxp',
    );
  });

  it('does not print the seed', () => {
    expect(String(existingTotpCredential({ seed: SEED }).seed)).toBe('[redacted]');
    expect(JSON.stringify(existingTotpCredential({ seed: SEED }))).not.toContain(SEED);
  });
});

describe('hazard settings', () => {
  it('switches hazards on, back off with null or false, and rejects unknown ones', () => {
    const on = mergeHazards(NO_HAZARDS, { captcha: true, rateLimit: 30, qrFormat: 'svg' });
    expect(on).toMatchObject({ captcha: true, rateLimit: 30, qrFormat: 'svg' });
    expect(mergeHazards(on, { captcha: false, rateLimit: null, qrFormat: null })).toEqual(NO_HAZARDS);
    expect(() => mergeHazards(NO_HAZARDS, { teleport: true } as never)).toThrow(InvalidHazardError);
    expect(() => mergeHazards(NO_HAZARDS, { totp: { algorithm: 'MD5', digits: 6, period: 30 } } as never)).toThrow(
      /algorithm/,
    );
  });
});
