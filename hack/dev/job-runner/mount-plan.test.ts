import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { effectivePath, isInsideMounts, orderMounts, type PlannedMount } from './mount-plan.ts';

const scratch = mkdtempSync(join(tmpdir(), 'mount-plan-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const dir = (target: string, readOnly = false): PlannedMount => ({ kind: 'dir', source: `volumes/${target}`, target, readOnly });

describe('effectivePath', () => {
  it('follows symlinks on this machine and stops inside /run, which the sandbox replaces', () => {
    symlinkSync('/run', join(scratch, 'var-run'));
    expect(effectivePath(join(scratch, 'var-run', 'secrets', 'x'))).toBe('/run/secrets/x');
    expect(effectivePath('/run/a/../b')).toBe('/run/b');
    expect(effectivePath(join(scratch, 'missing', 'deeper'))).toBe(join(scratch, 'missing', 'deeper'));
  });
});

describe('orderMounts', () => {
  it('mounts parents before children', () => {
    const ordered = orderMounts([dir('/run/mfa/run/x'), dir('/tmp'), dir('/run/mfa')], '/var/tmp/runner/pods');
    expect(ordered.map((m) => m.target)).toEqual(['/tmp', '/run/mfa', '/run/mfa/run/x']);
  });

  it('creates missing mount points only inside /run, another volume or the hidden runner directory', () => {
    expect(() => orderMounts([dir('/tmp'), dir('/tmp/profile/cache')], '/hidden')).not.toThrow();
    expect(() => orderMounts([dir('/nonexistent-top-level/dir')], '/hidden')).toThrow(/does not create directories on the host/);
  });

  it('refuses the host\'s own /, /run, /dev, /proc and /sys but allows an existing /dev/shm', () => {
    for (const target of ['/', '/run', '/dev', '/proc/x', '/sys']) {
      expect(() => orderMounts([dir(target)], '/hidden')).toThrow(/cannot be mounted/);
    }
    expect(() => orderMounts([dir('/dev/shm')], '/hidden')).not.toThrow();
  });
});

describe('isInsideMounts', () => {
  it('says whether a termination message path can be a bind-mounted file', () => {
    expect(isInsideMounts('/dev/termination-log', [dir('/tmp')])).toBe(false);
    expect(isInsideMounts('/tmp/termination-log', [dir('/tmp')])).toBe(true);
    expect(isInsideMounts('/var/run/mfa/termination-log', [])).toBe(true);
  });
});
