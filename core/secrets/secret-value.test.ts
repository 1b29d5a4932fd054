import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { secret } from './secret-value.ts';

describe('SecretValue', () => {
  const seed = secret('JBSWY3DPEHPK3PXP');

  it('never prints its value through the usual channels', () => {
    const renderings = [String(seed), `${seed}`, JSON.stringify({ seed }), inspect({ seed }), seed + ''];
    for (const text of renderings) {
      expect(text).not.toContain('JBSWY3DPEHPK3PXP');
      expect(text).toContain('[redacted]');
    }
  });

  it('reveals the value only when asked, and maps without revealing', () => {
    expect(seed.reveal()).toBe('JBSWY3DPEHPK3PXP');
    const lower = seed.map((s) => s.toLowerCase());
    expect(String(lower)).toBe('[redacted]');
    expect(lower.reveal()).toBe('jbswy3dpehpk3pxp');
  });
});
