import { ApiException, CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findControlPlaneBinaries } from './binaries.ts';
import { startControlPlane, type ControlPlane } from './control-plane.ts';
import { ControlPlaneError } from './errors.ts';
import { httpGet } from './readiness.ts';

const run = promisify(execFile);

function statFields(pid: number | string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Alive and not a zombie waiting to be reaped. */
function isRunning(pid: number): boolean {
  const state = statFields(pid)?.[0];
  return state !== undefined && state !== 'Z';
}

function childrenOf(parentPid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    if (Number(statFields(entry)?.[1]) === parentPid) children.push(Number(entry));
  }
  return children;
}

async function statusOf(request: Promise<unknown>): Promise<number> {
  try {
    await request;
    return 200;
  } catch (e: unknown) {
    if (e instanceof ApiException) return e.code;
    throw e;
  }
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(200);
  }
  return false;
}

describe('findControlPlaneBinaries', () => {
  it('names KUBEBUILDER_ASSETS and make control-plane when the binaries are missing', () => {
    const empty = mkdtempSync(join(tmpdir(), 'mfa-envtest-empty-'));
    try {
      const find = () => findControlPlaneBinaries({ KUBEBUILDER_ASSETS: empty });
      expect(find).toThrow(ControlPlaneError);
      expect(find).toThrow(/KUBEBUILDER_ASSETS.*kube-apiserver.*etcd.*make control-plane/s);
    } finally {
      rmSync(empty, { recursive: true });
    }
  });
});

function controlPlaneChildren(): number[] {
  return childrenOf(process.pid).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('mfa-envtest-');
    } catch {
      return false;
    }
  });
}

describe('startControlPlane failures', () => {
  it("reports kube-apiserver's last output when it exits, and leaves nothing running", async () => {
    const failure = startControlPlane({ apiServerArgs: ['--no-such-flag=1'] });

    await expect(failure).rejects.toMatchObject({
      reason: 'ProcessExited',
      message: expect.stringMatching(/kube-apiserver exited[\s\S]*unknown flag: --no-such-flag/),
    });
    expect(controlPlaneChildren().filter(isRunning)).toEqual([]);
  });

  it('says which server did not become ready in time', async () => {
    const failure = startControlPlane({ startTimeoutMs: 1 });

    await expect(failure).rejects.toMatchObject({
      reason: 'StartTimeout',
      message: expect.stringMatching(
        /^etcd did not serve http:\/\/127\.0\.0\.1:\d+\/health within 1 ms.*startTimeoutMs/,
      ),
    });
    expect(controlPlaneChildren().filter(isRunning)).toEqual([]);
  });
});

describe('local control plane', () => {
  let plane: ControlPlane;
  const pidsSeen: number[] = [];

  beforeAll(async () => {
    plane = await startControlPlane({ auditLog: true });
    const { etcd, kubeApiServer } = plane.processIds();
    pidsSeen.push(etcd, kubeApiServer);
  });

  afterAll(async () => {
    await plane?.stop();
  });

  it('serves kubectl as the admin user', async () => {
    const { stdout } = await run('kubectl', ['--kubeconfig', plane.kubeconfigPath, 'get', 'ns', '-o', 'name']);

    expect(stdout.split('\n')).toEqual(expect.arrayContaining(['namespace/default', 'namespace/kube-system']));
  });

  it('forbids a minted user to list secrets until a RoleBinding allows it', async () => {
    const kubeconfigPath = await plane.createUser('alice', ['mfa-readers']);
    const { stdout: whoami } = await run('kubectl', ['--kubeconfig', kubeconfigPath, 'auth', 'whoami', '-o', 'json']);
    const alice = new KubeConfig();
    alice.loadFromFile(kubeconfigPath);
    const aliceCore = alice.makeApiClient(CoreV1Api);

    expect(JSON.parse(whoami).status.userInfo).toMatchObject({
      username: 'alice',
      groups: expect.arrayContaining(['mfa-readers']),
    });
    expect(await statusOf(aliceCore.listNamespacedSecret({ namespace: 'default' }))).toBe(403);

    const rbac = plane.kubeConfig().makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: 'default',
      body: {
        metadata: { name: 'secret-reader' },
        rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['list'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: 'default',
      body: {
        metadata: { name: 'mfa-readers-read-secrets' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'secret-reader' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'mfa-readers' }],
      },
    });

    const allowed = await eventually(
      async () => (await statusOf(aliceCore.listNamespacedSecret({ namespace: 'default' }))) === 200,
    );
    expect(allowed).toBe(true);
    expect(await statusOf(aliceCore.listNamespacedSecret({ namespace: 'kube-system' }))).toBe(403);
  });

  it('lets the admin read /metrics and records requests in the audit log', async () => {
    const core = plane.kubeConfig().makeApiClient(CoreV1Api);
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'audited' } } });

    const metrics = await httpGet(`${plane.server}/metrics`, plane.admin);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('apiserver_request_total');
    const events = readFileSync(plane.auditLogPath ?? '', 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(events).toContainEqual(
      expect.objectContaining({
        verb: 'create',
        objectRef: expect.objectContaining({ resource: 'configmaps', name: 'audited' }),
      }),
    );
  });

  it('keeps the data in etcd when kube-apiserver restarts', async () => {
    const core = plane.kubeConfig().makeApiClient(CoreV1Api);
    await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'survives-restart' }, data: { answer: '42' } },
    });
    const before = plane.processIds();

    await plane.restartApiServer();

    const after = plane.processIds();
    pidsSeen.push(after.kubeApiServer);
    expect(after.kubeApiServer).not.toBe(before.kubeApiServer);
    expect(isRunning(before.kubeApiServer)).toBe(false);
    expect(after.etcd).toBe(before.etcd);
    const read = await core.readNamespacedConfigMap({ namespace: 'default', name: 'survives-restart' });
    expect(read.data).toEqual({ answer: '42' });
  });

  it('stops every process and removes its files', async () => {
    const workDir = dirname(dirname(plane.kubeconfigPath));

    await plane.stop();

    expect(pidsSeen.filter(isRunning)).toEqual([]);
    expect(existsSync(workDir)).toBe(false);
  });
});

/** The first line a child prints on stdout; rejects with its stderr if it exits first. */
function firstLine(child: ChildProcessWithoutNullStreams): Promise<string> {
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
    child.once('exit', () => reject(new Error(`exited before printing a line:\n${stderr}`)));
  });
}

describe('cleanup when the owning Node process ends', () => {
  it('stops etcd and kube-apiserver when serve.ts gets SIGTERM', async () => {
    const serve = spawn(process.execPath, [new URL('./serve.ts', import.meta.url).pathname]);
    const exited = new Promise<number | null>((resolve) => serve.once('exit', (code) => resolve(code)));
    const kubeconfigPath = await firstLine(serve);
    const servers = childrenOf(serve.pid ?? -1);
    expect(servers).toHaveLength(2);
    await run('kubectl', ['--kubeconfig', kubeconfigPath, 'get', 'ns', 'default']);

    serve.kill('SIGTERM');

    expect(await exited).toBe(0);
    expect(servers.filter(isRunning)).toEqual([]);
    expect(existsSync(kubeconfigPath)).toBe(false);
  });

  it('has the kernel kill etcd and kube-apiserver when their Node process is SIGKILLed', async () => {
    const script = `const { startControlPlane } = await import(${JSON.stringify(new URL('./control-plane.ts', import.meta.url).href)});
      const plane = await startControlPlane();
      console.log(JSON.stringify({ ...plane.processIds(), kubeconfigPath: plane.kubeconfigPath }));`;
    const owner = spawn(process.execPath, ['--input-type=module', '-e', script]);
    const started = JSON.parse(await firstLine(owner)) as {
      etcd: number;
      kubeApiServer: number;
      kubeconfigPath: string;
    };
    try {
      expect([started.etcd, started.kubeApiServer].filter(isRunning)).toHaveLength(2);

      owner.kill('SIGKILL');

      expect(await eventually(async () => !isRunning(started.etcd) && !isRunning(started.kubeApiServer))).toBe(true);
    } finally {
      // A SIGKILLed process cannot remove its files; this test does it for it.
      rmSync(dirname(dirname(started.kubeconfigPath)), { recursive: true, force: true });
    }
  });
});
