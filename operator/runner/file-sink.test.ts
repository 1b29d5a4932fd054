import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTextKey } from '../../connectors/sdk/otpauth-uri.ts';
import { SecretValue } from '../../core/secrets/secret-value.ts';
import { FileResultSink } from './file-sink.ts';

const KEY = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

async function sinkDir(): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), 'file-sink-')), 'result');
}

describe('FileResultSink', () => {
  it('stores a pending seed, then marks it confirmed, keeping its parameters', async () => {
    const sink = new FileResultSink(await sinkDir());
    expect(await sink.readSeed()).toBeUndefined();

    await sink.writePendingSeed(parseTextKey(KEY, { digits: 8, period: 60, issuer: 'Demo', label: 'a@example.com' }));
    expect((await sink.readSeed())?.state).toBe('pending');
    await sink.markConfirmed();

    const stored = await sink.readSeed();
    expect(stored?.state).toBe('confirmed');
    expect(stored?.seed.secret.reveal()).toBe(KEY);
    expect(stored?.seed).toMatchObject({
      algorithm: 'SHA1',
      digits: 8,
      period: 60,
      issuer: 'Demo',
      label: 'a@example.com',
    });
  });

  it('writes files readable by the owner only and leaves no temporary files', async () => {
    const dir = await sinkDir();
    const sink = new FileResultSink(dir);
    await sink.writePendingSeed(parseTextKey(KEY));
    await sink.writeRecoveryCodes(new SecretValue(['aaaaa-bbbbb', 'ccccc-ddddd']));

    expect((await readdir(dir)).sort()).toEqual(['recovery-codes.json', 'seed.json']);
    for (const name of ['seed.json', 'recovery-codes.json'])
      expect((await stat(join(dir, name))).mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await sink.readRecoveryCodes())?.reveal()).toEqual(['aaaaa-bbbbb', 'ccccc-ddddd']);
  });

  it('replaces a seed whole: a newer pending seed overwrites the old one', async () => {
    const dir = await sinkDir();
    const sink = new FileResultSink(dir);
    await sink.writePendingSeed(parseTextKey(KEY));
    await sink.writePendingSeed(parseTextKey('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'));
    expect((await sink.readSeed())?.seed.secret.reveal()).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
    expect(JSON.parse(await readFile(join(dir, 'seed.json'), 'utf8'))).toMatchObject({ state: 'pending' });
  });

  it('fails to write when the directory cannot be created, so the runner can stop before confirming', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'file-sink-'));
    await writeFile(join(parent, 'not-a-dir'), '');
    const sink = new FileResultSink(join(parent, 'not-a-dir', 'result'));
    await expect(sink.writePendingSeed(parseTextKey(KEY))).rejects.toThrow(/ENOTDIR|EEXIST/);
  });

  it('refuses to confirm when no seed was stored', async () => {
    await expect(new FileResultSink(await sinkDir()).markConfirmed()).rejects.toThrow(/No seed stored/);
  });
});
