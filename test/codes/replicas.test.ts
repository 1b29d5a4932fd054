import { connect, createServer, type Server, type Socket } from 'node:net';
import { ApiException, CoordinationV1Api, KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TotpSeed } from '../../core/totp/totp-seed.ts';
import { generateTotpCode } from '../../core/totp/totp-codes.ts';
import { LOGIN_WINDOWS_ANNOTATION } from '../../operator/codes/login-windows.ts';
import { RUN_CODE_BUDGET, RUN_CODES_ANNOTATION } from '../../operator/codes/run-code-budget.ts';
import type { RunningCodeService } from '../../operator/codes/start.ts';
import { REPO } from '../support/cluster.ts';
import { kubectlOk } from '../support/kubectl.ts';
import { startOperator, type OperatorProcess } from '../support/operator-process.ts';
import { waitFor } from '../support/wait.ts';
import { CodeServiceFixture, type HttpsAnswer } from './code-service-fixture.ts';
import { randomSeed } from '../stores/random-material.ts';

/**
 * Issue 13: several code-service replicas behind one Service, on one real API server. A login window goes to one
 * automated login only and a run gets RUN_CODE_BUDGET codes in total, whichever replicas answer; a replica that dies
 * between reserving a window and answering leaves it used; without the API server login codes fail closed while
 * display codes go on.
 */
const NS = 'team-replicas';
const BUSY = randomSeed({ period: 5 });
const RUNS = randomSeed({ period: 5 });
const CRASH = randomSeed({ period: 10 });
const OUTAGE = randomSeed({ period: 5 });
const SQUATTED = randomSeed();
const LIMITS = { ratePerMinute: 60_000, burst: 1_000 };
const fixture = new CodeServiceFixture();
let second: RunningCodeService;
let robot: string;
const processes: OperatorProcess[] = [];

interface Timed {
  answer: HttpsAnswer;
  at: number;
  replica: number;
}

async function ask(path: string, token: string, replica: number, service: { port: number }): Promise<Timed> {
  const answer = await fixture.get(path, token, { service });
  return { answer, at: Date.now(), replica };
}

/** Which window (counter) the answer's code is from: looked for just before it arrived. */
function windowOf(seed: TotpSeed, { answer, at }: Timed): number | undefined {
  const periodMs = seed.period * 1000;
  const code = answer.json().code;
  for (let counter = Math.floor(at / periodMs); counter >= Math.floor(at / periodMs) - 3; counter--) {
    if (generateTotpCode(seed, counter * periodMs).reveal() === code) return counter;
  }
  return undefined;
}

async function uidOf(account: string): Promise<string> {
  return kubectlOk(fixture.cp.kubeconfigPath, ['get', 'mfa', account, '-n', NS, '-o', 'jsonpath={.metadata.uid}']);
}

async function lease(name: string): Promise<V1Lease | undefined> {
  try {
    return await fixture.cp.kubeConfig().makeApiClient(CoordinationV1Api).readNamespacedLease({ namespace: NS, name });
  } catch (e: unknown) {
    if (e instanceof ApiException && e.code === 404) return undefined;
    throw e;
  }
}

const replicas = () => [fixture.service, second];
const fresh = (account: string) => fixture.codePath(NS, account, '?fresh=true');
const runCode = (job: string) => `/v1/namespaces/${NS}/runs/${job}/code?slot=active`;
const runSlots = (job: string) => `/v1/namespaces/${NS}/runs/${job}/slots`;

/** A clear refusal: a reason, a message and when to retry. */
function expectRetryable(answer: HttpsAnswer, reasons: readonly string[]): void {
  expect(answer.status, answer.body).toBe(503);
  expect(reasons).toContain(answer.json().reason);
  expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);
}

beforeAll(async () => {
  await fixture.start(LIMITS);
  second = await fixture.startService(LIMITS);
  await fixture.namespace(NS);
  for (const [account, seed] of [
    ['busy', BUSY],
    ['runs', RUNS],
    ['crash', CRASH],
    ['outage', OUTAGE],
  ] as const)
    await fixture.account(NS, account, seed);
  robot = await fixture.serviceAccountToken(NS, 'robot');
  await fixture.allowCodes(NS, 'robot');
  await waitFor('both replicas warm', () => fixture.service.warm && second.warm, 60_000);
}, 240_000);
afterAll(async () => {
  await Promise.all(processes.map((p) => p.kill('SIGKILL')));
  await fixture.stop();
});

describe('code service replicas sharing one API server', () => {
  it('hands each login window of an account to one fresh request only, over both replicas', async () => {
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => ask(fresh('busy'), robot, i % 2, replicas()[i % 2]!)),
    );

    const issued = answers.filter((a) => a.answer.status === 200);
    for (const refused of answers.filter((a) => a.answer.status !== 200))
      expectRetryable(refused.answer, ['NextWindowTooFar', 'LoginRecordUnavailable']);
    const windows = issued.map((a) => windowOf(BUSY, a));
    expect(windows).not.toContain(undefined);
    expect(new Set(windows).size, `windows handed: ${windows.join(', ')}`).toBe(windows.length);
    expect(issued.filter((a) => a.replica === 0).length, 'the first replica handed some').toBeGreaterThan(0);
    expect(issued.filter((a) => a.replica === 1).length, 'the second replica handed some').toBeGreaterThan(0);
    const record = await lease(`mfa-login-windows-${await uidOf('busy')}`);
    expect(record?.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'ManagedAccountMfa', name: 'busy', uid: await uidOf('busy') }),
    ]);
    expect(Object.keys(record?.metadata?.annotations ?? {})).toEqual([LOGIN_WINDOWS_ANNOTATION]);
    expect(JSON.stringify(record)).not.toContain(BUSY.secret.reveal());
  }, 120_000);

  it(`gives a run ${RUN_CODE_BUDGET} codes in total over both replicas`, async () => {
    const { job, token } = await fixture.runJob(NS, 'runs-rotate-1', 'runs');
    for (const service of replicas())
      await waitFor(
        "the replica's Job watch to see the run",
        async () => (await fixture.get(runSlots('runs-rotate-1'), token, { service })).status === 200,
      );

    const answers = await Promise.all(
      Array.from({ length: 2 * RUN_CODE_BUDGET }, (_, i) =>
        ask(runCode('runs-rotate-1'), token, i % 2, replicas()[i % 2]!),
      ),
    );

    const exhausted = answers.filter((a) => a.answer.status === 429);
    expect(exhausted.length, answers.map((a) => a.answer.status).join(', ')).toBe(RUN_CODE_BUDGET);
    for (const refused of exhausted) expect(refused.answer.json().reason).toBe('RunCodeBudgetExhausted');
    const issued = answers.filter((a) => a.answer.status === 200);
    for (const refused of answers.filter((a) => a.answer.status !== 200 && a.answer.status !== 429))
      expectRetryable(refused.answer, ['NextWindowTooFar']);
    const windows = issued.map((a) => windowOf(RUNS, a));
    expect(new Set(windows).size).toBe(windows.length);
    const count = await lease(`mfa-run-codes-${job.metadata!.uid}`);
    expect(count?.metadata?.annotations?.[RUN_CODES_ANNOTATION]).toBe(String(RUN_CODE_BUDGET));
    expect(count?.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ apiVersion: 'batch/v1', kind: 'Job', uid: job.metadata!.uid }),
    ]);
  }, 120_000);

  it('never hands out a window that a replica reserved and then died (SIGKILL) before answering', async () => {
    const replica = await operatorReplica('replica-x');
    const record = `mfa-login-windows-${await uidOf('crash')}`;
    // Three at once: the replica reserves three windows in a row, and the later ones wait for their window to start.
    const fromDead = [0, 1, 2].map(() => ask(fresh('crash'), robot, 2, replica).catch(() => undefined));
    const reservedUntil = await waitFor(
      'the replica to record a window it has not reached yet',
      async () => {
        const until = Date.parse((await lease(record))?.metadata?.annotations?.[LOGIN_WINDOWS_ANNOTATION] ?? '');
        return until - Date.now() > 1.5 * CRASH.period * 1000 ? until : undefined;
      },
      60_000,
      20,
    );
    await replica.process.kill('SIGKILL');
    const handedByDead = (await Promise.all(fromDead)).filter((a): a is Timed => a?.answer.status === 200);

    const survivor = await ask(fresh('crash'), robot, 1, second);

    expect(survivor.answer.status, survivor.answer.body).toBe(200);
    const window = windowOf(CRASH, survivor)!;
    expect(
      window * CRASH.period * 1000,
      'the survivor took a window after every one the dead replica reserved',
    ).toBeGreaterThanOrEqual(reservedUntil);
    for (const answered of handedByDead) expect(windowOf(CRASH, answered)).not.toBe(window);
  }, 150_000);

  it('refuses login and run codes while the API server cannot be reached, and still serves display codes', async () => {
    const relay = await ApiRelay.start(new URL(fixture.cp.server));
    try {
      const cut = await fixture.startService(
        { ...LIMITS, reviewCacheTtlMs: 300_000 },
        { kc: relay.kubeConfig(fixture.operatorKubeconfig) },
      );
      const { token: runToken } = await fixture.runJob(NS, 'outage-rotate-1', 'outage');
      await waitFor(
        'the replica warm and its Job watch to see the run',
        async () =>
          cut.warm && (await fixture.get(runSlots('outage-rotate-1'), runToken, { service: cut })).status === 200,
        60_000,
      );
      // Answered while the API server is reachable: the reviews of both callers are cached from here on.
      for (const [path, token] of [
        [fixture.codePath(NS, 'outage'), robot],
        [fresh('outage'), robot],
        [runCode('outage-rotate-1'), runToken],
      ] as const) {
        expect((await fixture.get(path, token, { service: cut })).status).toBe(200);
      }

      for (const outage of ['hold', 'refuse'] as const) {
        await relay[outage]();
        const display = await fixture.get(fixture.codePath(NS, 'outage'), robot, { service: cut });
        const login = await fixture.get(fresh('outage'), robot, { service: cut });
        const run = await fixture.get(runCode('outage-rotate-1'), runToken, { service: cut });

        expect(display.status, `${outage}: a display code from memory`).toBe(200);
        expectRetryable(login, ['LoginRecordUnavailable']);
        expectRetryable(run, ['LoginRecordUnavailable']);
        expect(login.json().message).toContain('no login code is handed out without it');
      }
    } finally {
      await relay.stop();
    }
  }, 150_000);

  it('never overwrites a record it cannot trust: a foreign Lease refuses login codes, a garbled count is spent', async () => {
    const admin = fixture.cp.kubeconfigPath;
    await fixture.account(NS, 'squatted', SQUATTED);
    const squatter = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: `mfa-login-windows-${await uidOf('squatted')}`, namespace: NS },
      spec: { holderIdentity: 'someone-else' },
    };
    await kubectlOk(admin, ['apply', '-f', '-'], JSON.stringify(squatter));
    await waitFor(
      "the seed in the replica's memory",
      async () => (await fixture.get(fixture.codePath(NS, 'squatted'), robot)).status === 200,
    );

    const login = await fixture.get(fresh('squatted'), robot);

    expect(login.status).toBe(503);
    expect(login.json()).toMatchObject({
      reason: 'LoginRecordUnavailable',
      message: expect.stringContaining('is not owned by ManagedAccountMfa squatted'),
    });
    expect((await lease(squatter.metadata.name))?.spec?.holderIdentity, 'left as it was').toBe('someone-else');
    const { job, token } = await fixture.runJob(NS, 'squatted-rotate-1', 'squatted');
    await kubectlOk(
      admin,
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: {
          name: `mfa-run-codes-${job.metadata!.uid}`,
          namespace: NS,
          annotations: { [RUN_CODES_ANNOTATION]: '-1' },
          ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'squatted-rotate-1', uid: job.metadata!.uid }],
        },
      }),
    );
    await waitFor(
      "the replica's Job watch to see the run",
      async () => (await fixture.get(runSlots('squatted-rotate-1'), token)).status === 200,
    );
    const run = await fixture.get(runCode('squatted-rotate-1'), token);
    expect(run.status).toBe(429);
    expect(run.json().reason).toBe('RunCodeBudgetExhausted');
  }, 60_000);

  it('never writes a seed into an answer or a log line', () => {
    const all =
      fixture.answers.map((a) => a.body).join('\n') +
      fixture.logLines.join('\n') +
      processes.flatMap((p) => p.lines).join('\n');
    for (const seed of [BUSY, RUNS, CRASH, OUTAGE, SQUATTED]) expect(all.includes(seed.secret.reveal())).toBe(false);
  });
});

/** The operator itself, as a replica that can be killed: its own process, with config/rbac's two roles. */
async function operatorReplica(identity: string): Promise<{ process: OperatorProcess; port: number }> {
  const admin = fixture.cp.kubeconfigPath;
  await kubectlOk(admin, ['apply', '-f', `${REPO}/config/rbac/role.yaml`]);
  for (const role of ['mfa-operator-manager-role', 'mfa-operator-code-service-role']) {
    await kubectlOk(admin, [
      'create',
      'clusterrolebinding',
      `${identity}-${role}`,
      `--clusterrole=${role}`,
      `--user=${identity}`,
    ]);
  }
  const replica = startOperator(await fixture.cp.createUser(identity), [
    '--no-leader-elect',
    '--identity',
    identity,
    '--code-service-port',
    '0',
    '--code-service-cert',
    fixture.serving.certPath,
    '--code-service-key',
    fixture.serving.keyPath,
  ]);
  processes.push(replica);
  const { port } = (await replica.waitForLog('serving TOTP codes over HTTPS', 60_000)) as { port: number };
  await waitFor(
    'the replica to serve codes',
    async () => (await fixture.get(fixture.codePath(NS, 'crash'), robot, { service: { port } })).status === 200,
    60_000,
  );
  return { process: replica, port };
}

/**
 * A TCP relay to the API server that a test can cut: `hold` drops every connection and then accepts new ones without
 * ever forwarding them (an API server that does not answer), `refuse` stops listening (connections refused).
 */
class ApiRelay {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #holding = false;

  private constructor(target: URL) {
    this.#server = createServer((client) => {
      this.#track(client);
      if (this.#holding) return;
      const upstream = connect(Number(target.port), target.hostname);
      this.#track(upstream);
      client.pipe(upstream).pipe(client);
      const drop = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', drop);
      upstream.on('error', drop);
    });
  }

  static async start(target: URL): Promise<ApiRelay> {
    const relay = new ApiRelay(target);
    await new Promise<void>((resolve) => relay.#server.listen(0, '127.0.0.1', resolve));
    return relay;
  }

  /** `kubeconfig` with its server pointed at the relay (the API server's certificate names 127.0.0.1). */
  kubeConfig(kubeconfig: string): KubeConfig {
    const original = new KubeConfig();
    original.loadFromFile(kubeconfig);
    const { port } = this.#server.address() as { port: number };
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: original.clusters.map((c) => ({ ...c, server: `https://127.0.0.1:${port}` })),
      users: original.users,
      contexts: original.contexts,
      currentContext: original.currentContext,
    });
    return kc;
  }

  async hold(): Promise<void> {
    this.#holding = true;
    for (const socket of this.#sockets) socket.destroy();
  }

  async refuse(): Promise<void> {
    this.#holding = true;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  async stop(): Promise<void> {
    if (this.#server.listening) await this.refuse();
  }

  #track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  }
}
