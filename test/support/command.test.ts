import { describe, expect, it } from 'vitest';
import { runCommand } from './command.ts';

// More than a pipe buffer (64 KiB on Linux), so the write is still pending when the child exits.
const LARGE_INPUT = 'x'.repeat(4 << 20);

describe('runCommand', () => {
  it('reports the exit status of a child that exits without reading its input, instead of an EPIPE', async () => {
    const result = await runCommand('sh', ['-c', 'echo refused >&2; exit 3'], { stdin: LARGE_INPUT });

    expect(result).toEqual({ code: 3, stdout: '', stderr: 'refused\n' });
  });

  it('passes standard input to a child that reads it', async () => {
    const result = await runCommand('wc', ['-c'], { stdin: LARGE_INPUT });

    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(String(LARGE_INPUT.length));
  });

  it('rejects when the program cannot be started', async () => {
    await expect(runCommand('/nonexistent/program', [])).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
