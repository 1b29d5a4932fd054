import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runRunnerCli } from './cli.ts';
import { renderSummary, type OutcomeSummary } from '../run-contract/outcome.ts';
import { validateRunSpec } from '../run-contract/run-spec.ts';

async function runCli(spec: unknown): Promise<{ code: number; stdout: string; termination: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'runner-cli-'));
  await writeFile(join(dir, 'spec.json'), typeof spec === 'string' ? spec : JSON.stringify(spec));
  const out = new PassThrough();
  let stdout = '';
  out.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  const code = await runRunnerCli(
    ['--run-spec', join(dir, 'spec.json'), '--termination-message-path', join(dir, 'term')],
    { stdout: out },
  );
  return { code, stdout, termination: await readFile(join(dir, 'term'), 'utf8') };
}

describe('runner CLI', () => {
  it('reports an invalid run spec as a failed outcome with exit code 1', async () => {
    const { code, stdout, termination } = await runCli({ connector: 'demo', action: 'explode' });
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({ outcome: 'Failed', reason: 'InvalidRunSpec', retryable: false });
    expect(termination).toBe(stdout.trim());
  });

  it('reports an unknown connector', async () => {
    const { code, stdout } = await runCli({
      connector: 'nope',
      action: 'enable',
      credentials: { usernameFile: '/u', passwordFile: '/p' },
      sink: { type: 'file', dir: '/tmp/x' },
    });
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({ outcome: 'Failed', reason: 'UnknownConnector' });
  });

  it('reports missing credential files as CredentialsUnavailable without browsing', async () => {
    const { stdout } = await runCli({
      connector: 'demo',
      action: 'enable',
      loginUrl: 'http://127.0.0.1:9/login',
      credentials: { usernameFile: '/nonexistent/u', passwordFile: '/nonexistent/p' },
      sink: { type: 'file', dir: '/tmp/x' },
    });
    const summary = JSON.parse(stdout) as OutcomeSummary;
    expect(summary).toMatchObject({ outcome: 'Failed', reason: 'CredentialsUnavailable', retryable: true });
    expect(summary.steps.map((s) => s.name)).toEqual(['resolveLoginUrl', 'readCredentials']);
  });
});

describe('validateRunSpec', () => {
  it.each([
    [{}, /connector/],
    [{ connector: 'demo', action: 'enable' }, /credentials/],
    [
      {
        connector: 'demo',
        action: 'enable',
        credentials: { usernameFile: 'u', passwordFile: 'p' },
        sink: { type: 'vault' },
      },
      /sink.type/,
    ],
  ])('rejects %j', (spec, problem) => {
    expect(() => validateRunSpec(spec)).toThrow(problem);
  });
});

describe('renderSummary', () => {
  it('keeps the termination message within 4096 bytes', () => {
    const summary: OutcomeSummary = {
      outcome: 'Failed',
      reason: 'X',
      message: 'm'.repeat(5000),
      retryable: false,
      action: 'enable',
      connector: { id: 'demo' },
      steps: Array.from({ length: 200 }, () => ({ name: 'login' as const, durationMs: 1, result: 'ok' as const })),
      startedAt: '',
      finishedAt: '',
    };
    expect(Buffer.byteLength(renderSummary(summary))).toBeLessThanOrEqual(4096);
  });
});
