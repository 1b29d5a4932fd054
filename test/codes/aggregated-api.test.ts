import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aggregatedAccountPath } from '../../operator/codes/aggregated-group.ts';
import type { RunningCodeService } from '../../operator/codes/start.ts';
import { CertificateDirectory, readKeyPair } from '../envtest/certificates.ts';
import { runCommand } from '../support/command.ts';
import { kubectl, kubectlOk } from '../support/kubectl.ts';
import { pluginPath } from '../support/kubectl-mfa.ts';
import { randomRecoveryCodes, randomSeed, validates } from '../stores/random-material.ts';
import { CodeServiceFixture } from './code-service-fixture.ts';
import { createRaw as createRawAs, grant, startAggregatedApi } from './aggregated-api-setup.ts';

const NS = 'team-agg';
const SHARED = randomSeed();
const fixture = new CodeServiceFixture();
let aggregated: RunningCodeService;
/** The CA of the aggregated port's serving certificate (the APIService's caBundle). */
let servingCa: string;
const users: Record<string, string> = {};
/** Every answer in this file, for the leak check: a hand-out's stdout holds its code, nothing else may hold one. */
const outputs: { handedOut: boolean; stdout: string; stderr: string }[] = [];
const recoveryCodes = randomRecoveryCodes(4).reveal();
/** PATH with the kubectl-mfa plugin from this checkout first. */
let pluginOnPath: string;
/** A ServiceAccount token for the direct endpoint, allowed recovery codes there. */
let keeperToken: string;

/** `kubectl mfa ...` as the user types it, with their kubeconfig only: no server, token or extension. */
async function kubectlMfa(user: string, args: readonly string[]) {
  const result = await runCommand('kubectl', ['mfa', ...args, '-n', NS, '--kubeconfig', users[user]!], {
    env: { ...process.env, PATH: pluginOnPath, KUBECONFIG: '/nonexistent' },
  });
  outputs.push({ handedOut: result.code === 0, stdout: result.stdout, stderr: result.stderr });
  return result;
}

/** `kubectl create --raw` as the user, with nothing but their kubeconfig. */
async function createRaw(user: string, path: string, body = '{}') {
  const result = await createRawAs(users[user]!, path, body);
  outputs.push({ handedOut: result.code === 0, stdout: result.stdout, stderr: result.stderr });
  return result;
}

function grantRule(user: string, name: string, group: string, verb: string, subresource: string) {
  return grant(fixture, NS, user, { name, group, verb, subresource });
}

/** A raw HTTPS request straight to the aggregated port, past kube-apiserver, with the headers an attacker picks. */
function direct(path: string, headers: Record<string, string>, cert?: { cert: string; key: string }) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(
      `https://127.0.0.1:${aggregated.aggregatedPort}${path}`,
      { method: 'POST', ca: servingCa, headers, ...(cert ?? {}) },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => {
          outputs.push({ handedOut: res.statusCode === 201, stdout: body, stderr: '' });
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on('error', reject);
    req.end('{}');
  });
}

beforeAll(async () => {
  ({ aggregated, servingCa } = await startAggregatedApi(fixture, { ratePerMinute: 600, burst: 100 }));
  await fixture.namespace(NS);
  await fixture.account(NS, 'shared', SHARED);
  pluginOnPath = await pluginPath(join(fixture.serving.certPath, '..'));
  await fixture.storeRecoveryCodes(NS, 'shared', recoveryCodes);
  for (const user of ['alice', 'bob', 'carol', 'keeper']) users[user] = await fixture.cp.createUser(user, ['team']);
  await grantRule('alice', 'alice-codes', 'codes.mfa-operator.io', 'create', 'code');
  // carol holds the direct endpoint's grant only: kube-apiserver authorises the aggregated group itself.
  await grantRule('carol', 'carol-codes', 'mfa-operator.io', 'get', 'code');
  await grantRule('keeper', 'keeper-recovery', 'codes.mfa-operator.io', 'create', 'recovery-code');
  keeperToken = await fixture.serviceAccountToken(NS, 'keeper-sa');
  await fixture.allowRecoveryCodes(NS, 'keeper-sa');
}, 240_000);
afterAll(() => fixture.stop());

const codePath = aggregatedAccountPath({ namespace: NS, name: 'shared' }, 'code');
const recoveryPath = aggregatedAccountPath({ namespace: NS, name: 'shared' }, 'recovery-code');

describe('codes through kube-apiserver (APIService codes.mfa-operator.io/v1alpha1)', () => {
  it('serves discovery, so kubectl sees the group and its two subresources', async () => {
    const list = JSON.parse(
      await kubectlOk(users.alice!, ['get', '--raw', '/apis/codes.mfa-operator.io/v1alpha1']),
    ) as { resources: { name: string; verbs: string[] }[] };
    expect(list.resources.map((r) => [r.name, r.verbs])).toEqual([
      ['managedaccountmfas/code', ['create']],
      ['managedaccountmfas/recovery-code', ['create']],
    ]);
    // An APIService that fails discovery makes kubectl api-resources exit non-zero for everyone.
    const resources = await kubectl(fixture.cp.kubeconfigPath, ['api-resources']);
    expect(resources.code, resources.stderr).toBe(0);
    expect(resources.stdout).toContain('managedaccountmfas');
  });

  it('gives a user RBAC allows a code with nothing but their kubeconfig', async () => {
    const result = await createRaw('alice', codePath);

    expect(result.code, result.stderr).toBe(0);
    const body = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(body).toMatchObject({
      apiVersion: 'codes.mfa-operator.io/v1alpha1',
      kind: 'TotpCode',
      metadata: { name: 'shared', namespace: NS },
      digits: 6,
      period: 30,
      algorithm: 'SHA1',
    });
    expect(validates(SHARED, body.code)).toBe(true);
    expect(fixture.auditRecords()).toContainEqual(
      expect.objectContaining({
        user: 'alice',
        groups: ['team', 'system:authenticated'],
        name: 'shared',
        purpose: 'display',
        result: 'issued',
      }),
    );
  });

  it('keeps the fresh semantics: a login code through the API server is recorded as one', async () => {
    const result = await createRaw('alice', `${codePath}?fresh=true`);

    expect(result.code, result.stderr).toBe(0);
    expect(validates(SHARED, (JSON.parse(result.stdout) as { code: string }).code)).toBe(true);
    expect(fixture.auditRecords()).toContainEqual(
      expect.objectContaining({ user: 'alice', purpose: 'login', result: 'issued' }),
    );
  });

  it("refuses a user without the rule, and one holding only the direct endpoint's rule, with 403", async () => {
    const bob = await createRaw('bob', codePath);
    const carol = await createRaw('carol', codePath);

    expect(bob.code).not.toBe(0);
    expect(bob.stderr).toMatch(/Forbidden|forbidden/);
    expect(carol.code).not.toBe(0);
    expect(carol.stderr).toContain(
      'cannot create resource "managedaccountmfas/code" in API group "codes.mfa-operator.io"',
    );
  });

  it('records every request in the API server audit log, with the user, verb and subresource', async () => {
    const events = (await readFile(fixture.cp.auditLogPath!, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map(
        (l) =>
          JSON.parse(l) as {
            user: { username: string };
            verb: string;
            objectRef?: { apiGroup?: string; resource?: string; subresource?: string; name?: string };
            responseStatus?: { code: number };
          },
      );
    const ours = events.filter(
      (e) => e.objectRef?.apiGroup === 'codes.mfa-operator.io' && e.objectRef.subresource === 'code',
    );

    expect(ours).toContainEqual(
      expect.objectContaining({
        user: expect.objectContaining({ username: 'alice' }),
        verb: 'create',
        responseStatus: expect.objectContaining({ code: 201 }),
      }),
    );
    expect(ours).toContainEqual(
      expect.objectContaining({
        user: expect.objectContaining({ username: 'bob' }),
        responseStatus: expect.objectContaining({ code: 403 }),
      }),
    );
  });

  it('refuses X-Remote-User sent straight to the port without the front proxy certificate', async () => {
    const forged = { 'x-remote-user': 'alice', 'x-remote-group': 'system:masters', 'content-type': 'application/json' };
    const stranger = await CertificateDirectory.create(join(fixture.serving.certPath, '..'));
    const otherCa = await stranger.createCertificateAuthority('stranger-ca');
    const strangerCert = await readKeyPair(await stranger.issueClientCertificate('front-proxy-client', [], otherCa));
    const frontProxy = fixture.cp.files.frontProxy!;
    const wrongName = await readKeyPair(await stranger.issueClientCertificate('not-the-proxy', [], frontProxy.ca));
    const adminCert = { cert: fixture.cp.admin.cert, key: fixture.cp.admin.key };
    const reviewsBefore = await fixture.apiRequestsServed('subjectaccessreviews', 'POST');

    const answers = [
      await direct(codePath, forged),
      await direct(codePath, forged, strangerCert),
      await direct(codePath, forged, wrongName),
      await direct(codePath, forged, adminCert),
      await direct(recoveryPath, forged),
    ];

    for (const answer of answers) {
      expect(answer.status).toBe(401);
      expect(JSON.parse(answer.body)).toMatchObject({
        kind: 'Status',
        status: 'Failure',
        reason: 'Unauthorized',
        code: 401,
      });
      expect(answer.body).toContain('ask through the API server');
    }
    expect(fixture.auditRecords().filter((r) => r.user === 'alice' && r.result === 'unauthenticated')).toEqual([]);
    // Refused before any API call: a flood of forged requests costs the API server nothing.
    expect(await fixture.apiRequestsServed('subjectaccessreviews', 'POST')).toBe(reviewsBefore);
  });

  it('hands out recovery codes through the API server with the same claim as the direct endpoint', async () => {
    const first = await createRaw('keeper', recoveryPath);
    const second = await createRaw('keeper', recoveryPath);
    // The direct endpoint, on the other replica, claims the next position on the same status.
    const viaDirect = await fixture.post(fixture.recoveryCodePath(NS, 'shared'), keeperToken);
    const refused = await createRaw('alice', recoveryPath);

    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({
      kind: 'RecoveryCode',
      code: recoveryCodes[0],
      index: 0,
      remaining: 3,
    });
    expect(JSON.parse(second.stdout)).toMatchObject({ code: recoveryCodes[1], index: 1, remaining: 2 });
    expect(viaDirect.json()).toEqual({ code: recoveryCodes[2], index: 2, remaining: 1 });
    expect(refused.code).not.toBe(0);
    const status = JSON.parse(
      await kubectlOk(fixture.cp.kubeconfigPath, [
        'get',
        'mfa',
        'shared',
        '-n',
        NS,
        '-o',
        'jsonpath={.status.recoveryCodes.used}',
      ]),
    ) as number[];
    expect(status).toEqual([0, 1, 2]);
  });

  it('answers a refusal inside the service as a Status naming what to do', async () => {
    await fixture.account(NS, 'no-seed');
    const result = await createRaw('alice', aggregatedAccountPath({ namespace: NS, name: 'no-seed' }, 'code'));

    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/Error from server \(NotFound\): .*no-seed/);
  });

  it('kubectl mfa code and recovery-code go through the API server with nothing but the kubeconfig', async () => {
    const code = await kubectlMfa('alice', ['code', 'shared', '--once']);
    const fresh = await kubectlMfa('alice', ['code', 'shared', '--once', '--fresh', '-o', 'json']);
    const recovery = await kubectlMfa('keeper', ['recovery-code', 'shared']);

    expect(code.code, code.stderr).toBe(0);
    expect(validates(SHARED, code.stdout.trim())).toBe(true);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(Object.keys(JSON.parse(fresh.stdout) as object).sort()).toEqual([
      'algorithm',
      'code',
      'digits',
      'period',
      'secondsRemaining',
    ]);
    expect(recovery.code, recovery.stderr).toBe(0);
    expect(recovery.stdout.trim()).toBe(recoveryCodes[3]);
    expect(recovery.stderr).toContain('recovery code #4 handed out; 0 left');
  });

  it('kubectl mfa names the aggregated rule a refused user lacks, and exits 5 once the codes are used up', async () => {
    const refused = await kubectlMfa('bob', ['code', 'shared', '--once']);
    const usedUp = await kubectlMfa('keeper', ['recovery-code', 'shared']);

    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `you need create on managedaccountmfas/code in API group codes.mfa-operator.io in namespace ${NS}`,
    );
    expect(usedUp.code).toBe(5);
  });

  it('never lets a seed, a recovery code or a code out but in the answer that hands it out', async () => {
    const handOuts = outputs.filter((o) => o.handedOut && !o.stdout.includes('"APIResourceList"'));
    const totpCodes = handOuts.map((o) => codeIn(o.stdout)).filter((c) => /^\d{6}$/.test(c));
    const logs = fixture.logLines.join('\n');
    const apiServerAudit = await readFile(fixture.cp.auditLogPath!, 'utf8');
    const nothingHandedOut = [
      logs,
      apiServerAudit,
      ...outputs.map((o) => o.stderr),
      ...outputs.filter((o) => !o.handedOut).map((o) => o.stdout),
    ];

    // Two through kubectl create --raw, two through kubectl mfa.
    expect(totpCodes, JSON.stringify(handOuts.map((o) => o.stdout))).toHaveLength(4);
    for (const text of [...nothingHandedOut, ...handOuts.map((o) => o.stdout)])
      expect(text).not.toContain(SHARED.secret.reveal());
    for (const text of nothingHandedOut) {
      for (const code of recoveryCodes) expect(text).not.toContain(code);
      for (const code of totpCodes) expect(text).not.toMatch(new RegExp(`\\b${code}\\b`));
    }
  });
});

/** The code a hand-out printed: a JSON answer's code, or the plain line `kubectl mfa ... --once` prints. */
function codeIn(stdout: string): string {
  const text = stdout.trim();
  return text.startsWith('{') ? String((JSON.parse(text) as { code?: unknown }).code) : text;
}
