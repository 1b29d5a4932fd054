import { copyFile, readFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aggregatedAccountPath } from '../../operator/codes/aggregated-group.ts';
import { CertificateDirectory, readKeyPair } from '../envtest/certificates.ts';
import { kubectlOk } from '../support/kubectl.ts';
import { randomSeed, validates } from '../stores/random-material.ts';
import {
  type AggregatedSetup,
  createRaw as createRawAs,
  eventually,
  grant,
  apiServerPoster,
  presentsCertificateOf,
  type RawAnswer,
  SERVICE,
  SERVICE_NS,
  setCaBundle,
  startAggregatedApi,
} from './aggregated-api-setup.ts';
import { CodeServiceFixture } from './code-service-fixture.ts';

/**
 * The aggregated API under what a hostile or unlucky cluster does: oversized and malformed bodies, one user's flood,
 * a serving certificate renewed from a new CA (read between its two files), and kube-apiserver's requestheader CA
 * rotated. aggregated-api.test.ts has the paths that work.
 */
const NS = 'team-agg-hard';
const SHARED = randomSeed();
const fixture = new CodeServiceFixture();
let setup: AggregatedSetup;
const users: Record<string, string> = {};
/** Every answer, for the leak check. */
const outputs: { handedOut: boolean; stdout: string; stderr: string }[] = [];

async function createRaw(user: string, path: string, body = '{}') {
  const result = await createRawAs(users[user]!, path, body);
  outputs.push({ handedOut: result.code === 0, stdout: result.stdout, stderr: result.stderr });
  return result;
}

async function throughApiServer(user: string, body: string, agent: Agent) {
  const answer = await (await apiServerPoster(users[user]!))(codePath, body, agent);
  outputs.push({ handedOut: answer.status === 201, stdout: answer.body, stderr: '' });
  return answer;
}

beforeAll(async () => {
  // The rotation tests wait for reloads; the operator's default is a minute.
  setup = await startAggregatedApi(fixture, { ratePerMinute: 600, burst: 100 }, 250);
  await fixture.namespace(NS);
  await fixture.account(NS, 'shared', SHARED);
  for (const user of ['alice', 'dave']) {
    users[user] = await fixture.cp.createUser(user, ['team']);
    await grant(fixture, NS, user, {
      name: `${user}-codes`,
      group: 'codes.mfa-operator.io',
      verb: 'create',
      subresource: 'code',
    });
  }
}, 240_000);
afterAll(() => fixture.stop());

const codePath = aggregatedAccountPath({ namespace: NS, name: 'shared' }, 'code');

describe('the aggregated API against hostile requests and certificate rotation', () => {
  it('refuses a body over 4 KiB, or one that is not a JSON object, as BadRequest naming what to send', async () => {
    const tooBig = await createRaw('alice', codePath, JSON.stringify({ padding: 'x'.repeat(5000) }));
    const notJson = await createRaw('alice', codePath, 'code please');
    const notObject = await createRaw('alice', codePath, '[1]');

    for (const refused of [tooBig, notJson, notObject]) {
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain('Error from server (BadRequest)');
    }
    expect(tooBig.stderr).toContain('The request body is over 4096 bytes; send {} or nothing.');
    expect(notJson.stderr).toContain('The request body is not JSON; send {} or nothing.');
    expect(notObject.stderr).toContain('must be a JSON object');
    expect(fixture.auditRecords().filter((r) => r.user === 'alice' && r.result === 'bad_request')).toHaveLength(3);
  });

  it('answers a flood from one user with 429 and Retry-After, and keeps serving everyone else', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const answers: RawAnswer[] = [];
    // The fixture allows a burst of 100 and 10 a second after it: ask until refused (at most 600).
    try {
      while (!answers.some((a) => a.status === 429) && answers.length < 600)
        answers.push(...(await Promise.all(Array.from({ length: 8 }, () => throughApiServer('dave', '{}', agent)))));
      const others = await createRaw('alice', codePath);

      const refused = answers.find((a) => a.status === 429);
      expect(refused, `statuses: ${[...new Set(answers.map((a) => a.status))].join(',')}`).toBeDefined();
      expect(answers.filter((a) => a.status !== 201 && a.status !== 429)).toEqual([]);
      expect(answers.filter((a) => a.status === 201).length).toBeGreaterThanOrEqual(100);
      expect(JSON.parse(refused!.body)).toMatchObject({
        kind: 'Status',
        status: 'Failure',
        reason: 'TooManyRequests',
        code: 429,
      });
      expect(Number(refused!.retryAfter)).toBeGreaterThan(0);
      expect(others.code, others.stderr).toBe(0);
      expect(fixture.auditRecords().filter((r) => r.user === 'dave' && r.result === 'rate_limited').length).toBe(
        answers.filter((a) => a.status === 429).length,
      );
    } finally {
      agent.destroy();
    }
  });

  it('serves a renewal from a new CA without a restart, through a torn write and a caBundle rollover', async () => {
    const certificates = await CertificateDirectory.create(join(fixture.serving.certPath, '..'));
    const nextCa = await certificates.createCertificateAuthority('aggregated-ca-next');
    const renewed = await certificates.issueServingCertificate('aggregated-next', nextCa, [
      `${SERVICE}.${SERVICE_NS}.svc`,
    ]);
    const nextCaPem = (await readKeyPair(nextCa)).cert;

    // cainjector's rollover: both CAs while the pair changes, then the new one alone.
    await setCaBundle(fixture, setup.servingCa + nextCaPem);
    // A renewal read between its two files: the new certificate with the old key makes no secure context.
    await copyFile(renewed.certPath, setup.servingFiles.certPath);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const whileTorn = await createRaw('alice', codePath);
    await copyFile(renewed.keyPath, setup.servingFiles.keyPath);
    const presented = await eventually(
      () => presentsCertificateOf(setup.aggregated.aggregatedPort!, nextCaPem),
      Boolean,
      10_000,
    );
    await setCaBundle(fixture, nextCaPem);
    const afterRollover = await eventually(
      () => createRaw('alice', codePath),
      (r) => r.code === 0,
    );

    expect(whileTorn.code, whileTorn.stderr).toBe(0);
    expect(presented).toBe(true);
    expect(afterRollover.code, afterRollover.stderr).toBe(0);
    expect(fixture.logLines.join('\n')).toContain('does not make a secure context');
    expect(fixture.logLines.join('\n')).toContain('aggregated API certificate or requestheader CA reloaded');
  });

  it("trusts kube-apiserver's front proxy again once its requestheader CA is rotated", async () => {
    const frontProxy = fixture.cp.files.frontProxy!;
    const certificates = await CertificateDirectory.create(join(fixture.serving.certPath, '..'));
    const nextCa = await certificates.createCertificateAuthority('front-proxy-ca-next');
    const nextClient = await certificates.issueClientCertificate(frontProxy.allowedName, [], nextCa);
    const nextCaPem = (await readKeyPair(nextCa)).cert;

    await fixture.cp.restartApiServer(async () => {
      await copyFile(nextCa.certPath, frontProxy.ca.certPath);
      await copyFile(nextClient.certPath, frontProxy.client.certPath);
      await copyFile(nextClient.keyPath, frontProxy.client.keyPath);
    });
    const published = await eventually(
      async () =>
        JSON.parse(
          await kubectlOk(fixture.cp.kubeconfigPath, [
            'get',
            'configmap',
            '-n',
            'kube-system',
            'extension-apiserver-authentication',
            '-o',
            'json',
          ]),
        ) as { data: Record<string, string> },
      (cm) => cm.data['requestheader-client-ca-file']?.includes(nextCaPem.trim()) ?? false,
    );
    // kube-apiserver now proxies with a certificate only the new CA signed: it is served once the operator re-read it.
    const served = await eventually(
      () => createRaw('alice', codePath),
      (r) => r.code === 0,
    );

    expect(published.data['requestheader-client-ca-file']).toContain(nextCaPem.trim());
    expect(served.code, served.stderr).toBe(0);
    expect(validates(SHARED, (JSON.parse(served.stdout) as { code: string }).code)).toBe(true);
  });

  it('lets no seed or code out but in the answers that hand one out', async () => {
    const handedOut = outputs.filter((o) => o.handedOut).map((o) => (JSON.parse(o.stdout) as { code: string }).code);
    const nothingHandedOut = [
      fixture.logLines.join('\n'),
      await readFile(fixture.cp.auditLogPath!, 'utf8'),
      ...outputs.map((o) => o.stderr),
      ...outputs.filter((o) => !o.handedOut).map((o) => o.stdout),
    ];

    expect(handedOut.length).toBeGreaterThan(100);
    for (const code of handedOut) expect(validates(SHARED, code), code).toBe(true);
    for (const text of [...nothingHandedOut, ...outputs.map((o) => o.stdout)])
      expect(text).not.toContain(SHARED.secret.reveal());
    for (const text of nothingHandedOut)
      for (const code of new Set(handedOut)) expect(text).not.toMatch(new RegExp(`\\b${code}\\b`));
  });
});
