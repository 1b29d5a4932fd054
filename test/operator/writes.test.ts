import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { ControlPlane } from '../envtest/control-plane.ts';
import { REPO, startClusterWithCrds } from '../support/cluster.ts';
import { kubectlOk } from '../support/kubectl.ts';
import { startOperator, type OperatorProcess } from '../support/operator-process.ts';
import { credentialsSecret, managedAccountMfa } from '../support/resources.ts';
import { waitFor } from '../support/wait.ts';

// Writes are counted from the API server's audit log, for the operator's own user, under config/rbac/role.yaml.
const USER = 'mfa-operator-writes';
const NS = 'default';
const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete']);
const ROLE_FILE = `${REPO}/config/rbac/role.yaml`;

let cp: ControlPlane;
let operator: OperatorProcess;

interface AuditEvent {
  verb: string;
  user?: { username?: string };
  stage: string;
  objectRef?: { resource?: string; subresource?: string };
  responseStatus?: { code?: number };
}

function operatorWrites(): AuditEvent[] {
  return readFileSync(cp.auditLogPath!, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditEvent)
    .filter((e) => e.user?.username === USER && e.stage === 'ResponseComplete' && WRITE_VERBS.has(e.verb));
}

const describeWrite = (e: AuditEvent) =>
  `${e.verb} ${e.objectRef?.resource}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ''}`;

async function getMfa(name: string): Promise<any> {
  return JSON.parse(await kubectlOk(cp.kubeconfigPath, ['get', 'mfa', name, '-n', NS, '-o', 'json']));
}

async function eventsOf(name: string): Promise<any[]> {
  return JSON.parse(
    await kubectlOk(cp.kubeconfigPath, [
      'get',
      'events',
      '-n',
      NS,
      '--field-selector',
      `involvedObject.name=${name}`,
      '-o',
      'json',
    ]),
  ).items;
}

async function reconciles(): Promise<{ success: number; error: number }> {
  const text = await (await fetch(`http://127.0.0.1:${await operator.httpPort()}/metrics`)).text();
  const count = (result: string) =>
    Number(
      new RegExp(`mfa_operator_reconcile_total\\{controller="managedaccountmfa",result="${result}"\\} (\\d+)`).exec(
        text,
      )?.[1] ?? 0,
    );
  return { success: count('success'), error: count('error') };
}

/** The operator's ClusterRole, optionally without its Events rule (RBAC removed for Events). */
function role(withEvents: boolean): string {
  const doc = parseAllDocuments(readFileSync(ROLE_FILE, 'utf8'))[0]!.toJS() as {
    rules: Array<{ apiGroups: string[] }>;
  };
  if (!withEvents) doc.rules = doc.rules.filter((r) => !r.apiGroups.includes('events.k8s.io'));
  return JSON.stringify(doc);
}

beforeAll(async () => {
  cp = await startClusterWithCrds({ auditLog: true });
  await kubectlOk(cp.kubeconfigPath, ['apply', '-f', '-'], role(true));
  await kubectlOk(cp.kubeconfigPath, [
    'create',
    'clusterrolebinding',
    'writes-test',
    '--clusterrole=mfa-operator-manager-role',
    `--user=${USER}`,
  ]);
  operator = startOperator(await cp.createUser(USER), ['--no-leader-elect', '--resync-period', '1']);
  await operator.waitForLog('caches synced; reconciling', 60_000);
});
afterAll(async () => {
  await operator?.kill();
  await cp?.stop();
});

describe('API writes per ManagedAccountMfa, from the audit log', () => {
  const names = ['w-0', 'w-1', 'w-2', 'w-3', 'w-4'];

  it('reaches the validated state in at most 3 writes per resource: finalizer, one status, one Event', async () => {
    await kubectlOk(
      cp.kubeconfigPath,
      ['apply', '-f', '-'],
      credentialsSecret('w-login', NS, { username: 'u', password: 'pw-writes-1' }),
    );
    const before = operatorWrites().length;
    for (const name of names) {
      await kubectlOk(
        cp.kubeconfigPath,
        ['apply', '-f', '-'],
        managedAccountMfa(name, NS, { account: { credentialsSecretRef: { name: 'w-login' } } }),
      );
    }
    for (const name of names) {
      await waitFor(`${name} validated, its Event written`, async () => {
        const ready = (await getMfa(name)).status?.conditions?.find((c: any) => c.type === 'Ready');
        return ready?.reason === 'AutomationNotConfigured' && (await eventsOf(name)).length > 0;
      });
    }
    const writes = operatorWrites().slice(before).map(describeWrite);
    expect(writes.length).toBeLessThanOrEqual(3 * names.length);
    expect(writes.filter((w) => w === 'patch managedaccountmfas')).toHaveLength(names.length);
    expect(writes.filter((w) => w === 'update managedaccountmfas/status')).toHaveLength(names.length);
    for (const name of names)
      expect((await eventsOf(name)).map((e) => `${e.type} ${e.reason}`)).toEqual(['Normal AutomationNotConfigured']);
    // The caches drop managedFields and kubectl's last-applied copy; the server keeps both through the status writes.
    const written = JSON.parse(
      await kubectlOk(cp.kubeconfigPath, ['get', 'mfa', names[0]!, '-n', NS, '-o', 'json', '--show-managed-fields']),
    );
    expect(written.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration']).toContain('"w-login"');
    expect(written.metadata.managedFields.map((f: any) => f.subresource ?? '')).toEqual(
      expect.arrayContaining(['', 'status']),
    );
  });

  it('writes nothing while idle: resyncs every second find nothing changed', async () => {
    const before = operatorWrites().length;
    const start = await reconciles();
    // Every resource resynced three times over, however slowly a loaded machine runs them, rather than a fixed wait.
    await waitFor(
      'three resyncs of every resource',
      async () => (await reconciles()).success >= start.success + 3 * names.length,
      60_000,
    );
    expect(operatorWrites().slice(before).map(describeWrite)).toEqual([]);
  });

  it('counts a warning that comes back within minutes on the Event already written, as a series', async () => {
    const readyReason = async () =>
      (await getMfa('flap')).status?.conditions?.find((c: any) => c.type === 'Ready')?.reason;
    const waitForReady = (reason: string) =>
      waitFor(`flap Ready ${reason}`, async () => (await readyReason()) === reason);
    await kubectlOk(
      cp.kubeconfigPath,
      ['apply', '-f', '-'],
      credentialsSecret('flap-login', NS, { username: 'u', password: 'pw-flap-2' }),
    );
    await kubectlOk(cp.kubeconfigPath, ['apply', '-f', '-'], managedAccountMfa('flap', NS));
    await waitForReady('AutomationNotConfigured');
    for (let i = 0; i < 2; i += 1) {
      await kubectlOk(cp.kubeconfigPath, ['delete', 'secret', 'flap-login', '-n', NS]);
      await waitForReady('CredentialsSecretNotFound');
      await kubectlOk(
        cp.kubeconfigPath,
        ['apply', '-f', '-'],
        credentialsSecret('flap-login', NS, { username: 'u', password: 'pw-flap-2' }),
      );
      await waitForReady('AutomationNotConfigured');
    }
    const missing = await waitFor('the warning counted twice', async () => {
      const warnings = (await eventsOf('flap')).filter((e) => e.reason === 'CredentialsSecretNotFound');
      return warnings[0]?.series?.count === 2 ? warnings : undefined;
    });
    expect(missing).toHaveLength(1);
    expect(missing[0].type).toBe('Warning');
    expect((await eventsOf('flap')).filter((e) => e.reason === 'CredentialsSecretFound')).toHaveLength(1);
    expect(
      operatorWrites()
        .filter((e) => describeWrite(e) === 'patch events')
        .map((e) => e.responseStatus?.code),
    ).toEqual([200, 200]);
  });

  it('reconciles as before when the API server refuses its Events (RBAC removed), without an error or a crash', async () => {
    await kubectlOk(cp.kubeconfigPath, ['apply', '-f', '-'], role(false));
    const start = await reconciles();
    await kubectlOk(cp.kubeconfigPath, ['apply', '-f', '-'], managedAccountMfa('w-refused', NS));
    const mfa = await waitFor('w-refused reported', async () => {
      const m = await getMfa('w-refused');
      return m.status?.conditions?.find((c: any) => c.type === 'Ready')?.reason === 'CredentialsSecretNotFound'
        ? m
        : undefined;
    });
    expect(mfa.metadata.finalizers).toContain('mfa-operator.io/finalizer');
    await waitFor('the refused Event logged', async () =>
      operator.records().some((r) => r.msg === 'could not record event' && r.err === 'HTTP 403'),
    );
    const denied = operatorWrites()
      .filter((e) => e.responseStatus?.code === 403)
      .map(describeWrite);
    expect(denied.length).toBeGreaterThan(0);
    expect(new Set(denied)).toEqual(new Set(['create events']));
    expect((await reconciles()).error).toBe(start.error);
    expect(operator.child.exitCode).toBeNull();
    expect(operator.lines.join('\n')).not.toMatch(/unhandled|UnhandledPromiseRejection/i);
  });
});
