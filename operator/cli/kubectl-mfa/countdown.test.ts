import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CodeAnswer } from './code-service-client.ts';
import { countdownLine, groupedCode, runCountdown } from './countdown.ts';

const ANSWER: CodeAnswer = { code: '12345678', secondsRemaining: 15, period: 30, digits: 8, algorithm: 'SHA1' };

describe('countdown', () => {
  it('groups the code in two halves', () => {
    expect(groupedCode('123456')).toBe('123 456');
    expect(groupedCode('12345678')).toBe('1234 5678');
  });

  it('draws the time left as a bar', () => {
    expect(countdownLine(ANSWER, 15)).toBe(`1234 5678  ${'█'.repeat(15)}${'░'.repeat(15)}  15s`);
    expect(countdownLine(ANSWER, 0)).toBe(`1234 5678  ${'░'.repeat(30)}   0s`);
  });

  it('redraws one line on a terminal each second and asks for the next code when the window ends', async () => {
    let written = '';
    const out = Object.assign(
      new Writable({
        write: (chunk: Buffer, _enc, done) => {
          written += chunk.toString();
          done();
        },
      }),
      { isTTY: true },
    );
    const stop = new AbortController();
    const answers = [
      { ...ANSWER, secondsRemaining: 2 },
      { ...ANSWER, code: '87654321', secondsRemaining: 30 },
    ];
    let asked = 0;

    await runCountdown({
      out,
      signal: stop.signal,
      next: async () => {
        if (asked === 1) setTimeout(() => stop.abort(), 50);
        return answers[asked++]!;
      },
    });

    expect(asked).toBe(2);
    expect(written).toContain('\r1234 5678');
    expect(written).toMatch(/^\r1234 5678 .* 2s\x1b\[K.*\r8765 4321 .*30s\x1b\[K/s);
    expect(written.endsWith('\n')).toBe(true);
  });
});
