import { describe, expect, it } from 'vitest';
import { adoptedSlotData, readRunResult } from './result-secret.ts';

/** A result Secret as a run's pod leaves it: the pod is not trusted, so what it writes is read with care. */
const resultSecret = (data: Record<string, string>) => ({
  metadata: { namespace: 'team-a', name: 'acct-enable-1' },
  data,
});
const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('the adopted slot a run reports', () => {
  it.each(['pending', 'active'] as const)('reads %s back as written', (slot) => {
    expect(readRunResult(resultSecret(adoptedSlotData(slot))).adoptedSlot).toBe(slot);
  });

  it.each(['history', 'PENDING', 'active ', 'pending\nactive', '', 'recovery-codes'])(
    'ignores a forged value %j: nothing is promoted from it',
    (forged) => {
      const result = readRunResult(resultSecret({ 'adopted-slot': b64(forged) }));
      expect(result).not.toHaveProperty('adoptedSlot');
    },
  );
});
