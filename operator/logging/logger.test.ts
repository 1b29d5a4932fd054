import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { secret } from '../secrets/secret-value.ts';
import { createLogger } from './logger.ts';

function capture(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, stream };
}

describe('createLogger', () => {
  it('redacts secret-bearing fields at any of the first three levels', () => {
    const { lines, stream } = capture();
    const log = createLogger('test', {}, stream);
    log.info({ password: 'hunter2', run: { seed: 'JBSWY3DP' }, a: { b: { code: '123456' } } }, 'step done');
    const out = lines.join('');
    expect(out).toContain('step done');
    for (const value of ['hunter2', 'JBSWY3DP', '123456']) expect(out).not.toContain(value);
  });

  it('prints SecretValue fields as [redacted] whatever their name', () => {
    const { lines, stream } = capture();
    createLogger('test', {}, stream).info({ anything: secret('s3cr3t-value') }, 'x');
    expect(lines.join('')).not.toContain('s3cr3t-value');
    expect(lines.join('')).toContain('[redacted]');
  });
});
