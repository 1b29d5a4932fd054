import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { TotpSeed } from '../../core/totp/totp-seed.ts';
import { CODE_SERVICE_EXTENSION } from '../../operator/cli/kubectl-mfa/kube-context.ts';
import { randomRecoveryCodes, randomSeed } from '../stores/random-material.ts';
import { kubectlOk } from '../support/kubectl.ts';
import { pluginPath } from '../support/kubectl-mfa.ts';
import { runCommand, type CommandResult } from '../support/command.ts';
import { waitFor } from '../support/wait.ts';
import { CodeServiceFixture } from './code-service-fixture.ts';

const NS = 'team-b';
const SEED = randomSeed({ algorithm: 'SHA512', digits: 8 });
const fixture = new CodeServiceFixture();
let shimDir: string;
/** PATH with the plugin first (its shim is in shimDir). */
let pluginOnPath: string;
const kubeconfigs: Record<string, string> = {};

function validates(seed: TotpSeed, code: string): boolean {
  const totp = new TOTP({
    secret: Secret.fromBase32(seed.secret.reveal()),
    algorithm: seed.algorithm,
    digits: seed.digits,
    period: seed.period,
  });
  return totp.validate({ token: code, window: 1 }) !== null;
}

/** `kubectl mfa ...` exactly as a user types it: kubectl finds the plugin on PATH. */
function kubectlMfa(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CommandResult> {
  return runCommand('kubectl', ['mfa', ...args], {
    env: { ...process.env, PATH: pluginOnPath, KUBECONFIG: '/nonexistent', ...env },
  });
}

/**
 * A kubeconfig whose user is a bearer token and whose cluster names the code service in its extension.
 * Most tests mint that token for the code service's audience, as a CI job's dedicated kubeconfig would.
 */
async function tokenKubeconfig(name: string, token: string): Promise<string> {
  const admin = parse(await readFile(fixture.cp.kubeconfigPath, 'utf8')) as {
    clusters: { name: string; cluster: Record<string, unknown> }[];
  };
  const cluster = admin.clusters[0]!;
  const extension = { server: fixture.url, 'certificate-authority-data': Buffer.from(fixture.ca).toString('base64') };
  const path = join(shimDir, `${name}.kubeconfig`);
  await writeFile(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': name,
      clusters: [
        {
          name: cluster.name,
          cluster: { ...cluster.cluster, extensions: [{ name: CODE_SERVICE_EXTENSION, extension }] },
        },
      ],
      users: [{ name, user: { token } }],
      contexts: [{ name, context: { cluster: cluster.name, user: name, namespace: NS } }],
    }),
    { mode: 0o600 },
  );
  return path;
}

beforeAll(async () => {
  await fixture.start();
  shimDir = await mkdtemp(join(tmpdir(), 'kubectl-mfa-shim-'));
  pluginOnPath = await pluginPath(shimDir);
  await fixture.namespace(NS);
  await fixture.account(NS, 'shared', SEED);
  for (const sa of ['alice', 'bob'])
    kubeconfigs[sa] = await tokenKubeconfig(sa, await fixture.serviceAccountToken(NS, sa));
  await fixture.allowCodes(NS, 'alice', ['shared']);
  // alice may get TOTP codes of 'shared' only; carol may take recovery codes of any account here.
  kubeconfigs.carol = await tokenKubeconfig('carol', await fixture.serviceAccountToken(NS, 'carol'));
  await fixture.allowRecoveryCodes(NS, 'carol');
  // alice's ordinary token, for the API server's audience: what --direct needs, and what the code service refuses.
  kubeconfigs['alice-api'] = await tokenKubeconfig('alice-api', await fixture.token(NS, 'alice', null));
}, 180_000);
afterAll(async () => {
  await fixture.stop();
  if (shimDir) await rm(shimDir, { recursive: true, force: true });
});

describe('kubectl mfa code', () => {
  it('prints a code that validates, found through the kubeconfig extension with the user token', async () => {
    const result = await kubectlMfa(['code', 'shared', '--once', '--kubeconfig', kubeconfigs.alice!]);

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^\d{8}\n$/);
    expect(validates(SEED, result.stdout.trim())).toBe(true);
  });

  it('prints the whole answer as JSON, reading the namespace, server, CA and token from flags and env', async () => {
    const token = await fixture.token(NS, 'alice');

    const result = await kubectlMfa(
      [
        'code',
        'shared',
        '-n',
        NS,
        '--once',
        '-o',
        'json',
        '--kubeconfig',
        fixture.cp.kubeconfigPath,
        '--server',
        fixture.url,
        '--certificate-authority',
        fixture.caPath,
      ],
      { KUBECTL_MFA_TOKEN: token },
    );

    expect(result.code).toBe(0);
    const answer = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(answer).toMatchObject({ digits: 8, period: 30, algorithm: 'SHA512' });
    expect(validates(SEED, String(answer.code))).toBe(true);
  });

  it('--service-account mints a token for the code service audience, with the admin kubeconfig', async () => {
    const result = await kubectlMfa([
      'code',
      'shared',
      '-n',
      NS,
      '--once',
      '--service-account',
      'alice',
      '--kubeconfig',
      fixture.cp.kubeconfigPath,
      '--server',
      fixture.url,
      '--certificate-authority',
      fixture.caPath,
    ]);

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(validates(SEED, result.stdout.trim())).toBe(true);
  });

  it('says which audience to mint for when the kubeconfig token is one for the API server', async () => {
    const result = await kubectlMfa(['code', 'shared', '--once', '--kubeconfig', kubeconfigs['alice-api']!]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('did not accept your token (401)');
    expect(result.stderr).toContain('audience "mfa-operator.io/code-service"');
    expect(result.stderr).toContain('--service-account SERVICEACCOUNT');
  });

  it('tells a user without the permission which RBAC they need', async () => {
    const result = await kubectlMfa(['code', 'shared', '--once', '--kubeconfig', kubeconfigs.bob!]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`you need get on managedaccountmfas/code in namespace ${NS}`);
    expect(result.stdout).toBe('');
  });

  it('tells a client-certificate user how to get a token', async () => {
    const result = await kubectlMfa([
      'code',
      'shared',
      '-n',
      NS,
      '--once',
      '--kubeconfig',
      fixture.cp.kubeconfigPath,
      '--server',
      fixture.url,
    ]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('has no bearer token');
    expect(result.stderr).toContain('kubectl create token');
  });

  it('shows a countdown line per code when not on a terminal', async () => {
    const child = spawn('kubectl', ['mfa', 'code', 'shared', '--kubeconfig', kubeconfigs.alice!], {
      env: { ...process.env, PATH: pluginOnPath },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    await waitFor('the first countdown line', () => stdout.includes('\n'), 45_000);
    child.kill('SIGINT');
    await new Promise((resolve) => child.on('close', resolve));

    const line = stdout.split('\n')[0]!;
    expect(line).toMatch(/^\d{4} \d{4}  [█░]{30}  [ \d]\ds$/);
    expect(validates(SEED, line.slice(0, 9).replace(' ', ''))).toBe(true);
  });

  it('--direct computes the code from the seed Secret with an admin kubeconfig, without the code service', async () => {
    const result = await kubectlMfa([
      'code',
      'shared',
      '-n',
      NS,
      '--once',
      '--direct',
      '--kubeconfig',
      fixture.cp.kubeconfigPath,
    ]);

    expect(result.code).toBe(0);
    expect(validates(SEED, result.stdout.trim())).toBe(true);
  });

  it('--direct refuses a user who may only get codes, saying what is missing', async () => {
    const result = await kubectlMfa([
      'code',
      'shared',
      '--once',
      '--direct',
      '--kubeconfig',
      kubeconfigs['alice-api']!,
    ]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`you need get on managedaccountmfas in namespace ${NS}`);
    expect(result.stderr).not.toContain(SEED.secret.reveal());
  });
});

describe('kubectl mfa status', () => {
  it('prints the conditions and the run history newest first', async () => {
    const status = {
      mfaState: 'Enabled',
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'Ready',
          message: 'MFA is in the desired state and its material is stored.',
          lastTransitionTime: '2026-11-27T10:00:00Z',
        },
        {
          type: 'SeedStored',
          status: 'True',
          reason: 'SeedStored',
          message: 'The seed is in the store.',
          lastTransitionTime: '2026-11-27T10:00:00Z',
        },
      ],
      totp: {
        algorithm: 'SHA512',
        digits: 8,
        period: 30,
        store: { storeKind: 'Default', provider: 'kubernetes', name: 'shared-mfa-seed', version: '1' },
      },
      history: [
        {
          job: 'shared-enable-1',
          trigger: 'Created',
          startTime: '2026-11-27T09:00:00Z',
          completionTime: '2026-11-27T09:01:00Z',
          outcome: 'Failed',
          reason: 'InvalidCredentials',
        },
        {
          job: 'shared-enable-2',
          trigger: 'SpecChanged',
          startTime: '2026-11-27T09:30:00Z',
          completionTime: '2026-11-27T09:31:00Z',
          outcome: 'Succeeded',
        },
      ],
    };
    await kubectlOk(fixture.cp.kubeconfigPath, [
      'patch',
      'mfa',
      'shared',
      '-n',
      NS,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status }),
    ]);

    const result = await kubectlMfa(['status', 'shared', '-n', NS, '--kubeconfig', fixture.cp.kubeconfigPath]);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      'SHA512, 8 digits, 30 s; seed in shared-mfa-seed (kubernetes, default store, version 1)',
    );
    expect(result.stdout).toMatch(
      /TYPE\s+STATUS\s+REASON\s+AGE\s+MESSAGE\nReady\s+True\s+Ready\s+\d+[smhd]\s+MFA is in the desired state/,
    );
    expect(result.stdout.indexOf('shared-enable-2')).toBeLessThan(result.stdout.indexOf('shared-enable-1'));
    expect(result.stdout).toMatch(
      /2026-11-27T09:00:00Z\s+2026-11-27T09:01:00Z\s+Created\s+Failed\s+InvalidCredentials\s+shared-enable-1/,
    );
  });

  it('names a missing resource', async () => {
    const result = await kubectlMfa(['status', 'nope', '-n', NS, '--kubeconfig', fixture.cp.kubeconfigPath]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`there is no ManagedAccountMfa nope in namespace ${NS}`);
  });
});

describe('kubectl mfa recovery-code', () => {
  /** An account with `count` stored recovery codes, as a harvest leaves it. */
  async function vault(name: string, count: number): Promise<readonly string[]> {
    await fixture.account(NS, name, randomSeed());
    const codes = randomRecoveryCodes(count).reveal();
    await fixture.storeRecoveryCodes(NS, name, codes);
    return codes;
  }

  async function used(name: string): Promise<string> {
    return kubectlOk(fixture.cp.kubeconfigPath, [
      'get',
      'mfa',
      name,
      '-n',
      NS,
      '-o',
      'jsonpath={.status.recoveryCodes.used}',
    ]);
  }

  it('prints the next code alone on stdout and which one it was on stderr, then the following one as JSON', async () => {
    const codes = await vault('vault', 4);

    const first = await kubectlMfa(['recovery-code', 'vault', '--kubeconfig', kubeconfigs.carol!]);
    const second = await kubectlMfa(['recovery-code', 'vault', '--json', '--kubeconfig', kubeconfigs.carol!]);

    expect(first.code).toBe(0);
    expect(first.stdout).toBe(`${codes[0]}\n`);
    expect(first.stderr).toBe('recovery code #1 handed out; 3 left\n');
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toEqual({ code: codes[1], index: 1, remaining: 2 });
    expect(second.stderr).toBe('recovery code #2 handed out; 2 left\n');
    expect(await used('vault')).toBe('[0,1]');
  });

  it('tells a user who may only get TOTP codes which RBAC a recovery code needs, spending none', async () => {
    await vault('vault-guarded', 3);

    const result = await kubectlMfa(['recovery-code', 'vault-guarded', '--kubeconfig', kubeconfigs.alice!]);

    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`you need create on managedaccountmfas/recovery-code in namespace ${NS}`);
    expect(await used('vault-guarded')).toBe('');
  });

  it('refuses --direct, saying it would skip the record, without asking anyone', async () => {
    const codes = await vault('vault-direct', 3);

    const result = await kubectlMfa([
      'recovery-code',
      'vault-direct',
      '-n',
      NS,
      '--direct',
      '--kubeconfig',
      fixture.cp.kubeconfigPath,
    ]);

    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('recovery-code has no --direct');
    expect(result.stderr).toContain('skip the record');
    for (const code of codes) expect(result.stderr).not.toContain(code);
    expect(await used('vault-direct')).toBe('');
  });

  it('exits 4 for an account without stored recovery codes and 5 once all are handed out', async () => {
    await fixture.account(NS, 'vault-none', randomSeed());
    const codes = await vault('vault-last', 1);

    const none = await kubectlMfa(['recovery-code', 'vault-none', '--kubeconfig', kubeconfigs.carol!]);
    const last = await kubectlMfa(['recovery-code', 'vault-last', '--kubeconfig', kubeconfigs.carol!]);
    const spent = await kubectlMfa(['recovery-code', 'vault-last', '--kubeconfig', kubeconfigs.carol!]);

    expect(none.code).toBe(4);
    expect(none.stderr).toContain('has no stored recovery codes');
    expect(last.code).toBe(0);
    expect(last.stderr).toBe('recovery code #1 handed out; 0 left\n');
    expect(spent.code).toBe(5);
    expect(spent.stdout).toBe('');
    expect(spent.stderr).toContain('All 1 stored recovery codes of');
    expect(spent.stderr).not.toContain(codes[0]);
  });

  it('says where a hand-out cut off by a failed connection would show', async () => {
    // Port 1 on loopback: nothing listens, so the connection fails before any answer.
    const result = await kubectlMfa([
      'recovery-code',
      'vault',
      '--kubeconfig',
      kubeconfigs.carol!,
      '--server',
      'https://127.0.0.1:1',
    ]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cannot reach the code service at https://127.0.0.1:1');
    expect(result.stderr).toContain('shows in kubectl mfa status');
  });

  it('exits 3 with when to retry when the service rate-limits, spending none', async () => {
    await vault('vault-busy', 3);
    // One request per source address: the first (refused, so no code is spent) uses it up.
    const strict = await fixture.startService({ sourceRatePerMinute: 1, sourceBurst: 1 });
    const server = `https://127.0.0.1:${strict.port}`;
    const flags = ['--kubeconfig', kubeconfigs.carol!, '--server', server, '--certificate-authority', fixture.caPath];

    const refused = await kubectlMfa(['recovery-code', 'vault-busy', ...flags], { KUBECTL_MFA_TOKEN: 'not-a-token' });
    const limited = await kubectlMfa(['recovery-code', 'vault-busy', ...flags]);

    expect(refused.code).toBe(1);
    expect(limited.code).toBe(3);
    expect(limited.stderr).toMatch(/too many code requests; retry in \d+ s/);
    expect(await used('vault-busy')).toBe('');
  });
});
