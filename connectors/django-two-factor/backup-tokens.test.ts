import { describe, expect, it } from 'vitest';
import { backupTokensIn } from './backup-tokens.ts';

describe('backupTokensIn (the lists of the Backup Tokens page)', () => {
  it('reads the list whose every item is a django-otp static token', () => {
    expect(
      backupTokensIn([
        ['home', 'settings'],
        ['abcd2345', 'zzzz7777'],
      ]),
    ).toEqual(['abcd2345', 'zzzz7777']);
  });

  it('ignores a list with one item of another shape, and empty lists', () => {
    expect(backupTokensIn([['abcd2345', 'settings!'], [], ['ABCD2345']])).toEqual([]);
  });
});
