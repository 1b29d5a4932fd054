import { describe, expect, it } from 'vitest';
import { parseRecoveryCodes } from './recovery-codes.ts';

describe('parseRecoveryCodes (the unused codes textarea)', () => {
  it('reads one code a line, ignoring blank lines and indentation', () => {
    expect(parseRecoveryCodes('\n  12345678\n87654321\r\n\n  11112222  \n')).toEqual([
      '12345678',
      '87654321',
      '11112222',
    ]);
  });
});
