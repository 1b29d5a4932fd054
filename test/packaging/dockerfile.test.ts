import { spawn } from 'node:child_process';
import { cp as copy, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../envtest/control-plane.ts';
import { freeLoopbackPort } from '../envtest/ports.ts';
import { httpGet } from '../envtest/readiness.ts';
import { REPO, startClusterWithCrds } from '../support/cluster.ts';
import { waitFor } from '../support/wait.ts';
import { environment, execForm, lastValue, readDockerfile, type Stage } from './dockerfile.ts';
import { named, objectsOf, renderChart, renderKustomize } from './manifests.ts';
import { ensurePackagingTools, packagingPath, runTool, TOOLS_TIMEOUT_MS, type CommandResult } from './tools.ts';

beforeAll(ensurePackagingTools, TOOLS_TIMEOUT_MS);

/** Starting Node with playwright-core and the API clients takes tens of seconds on two busy cores. */
const ENTRY_POINT_TIMEOUT_MS = 180_000;

let stages: Stage[];
let final: Stage;
let work: string;

beforeAll(async () => {
  stages = await readDockerfile(`${REPO}/Dockerfile`);
  final = stages.at(-1)!;
  work = await mkdtemp(join(tmpdir(), 'mfa-image-'));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const stage = (name: string) => stages.find((s) => s.name === name)!;
const runs = (s: Stage) => s.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
const imageCommand = () => [...execForm(final, 'ENTRYPOINT'), ...execForm(final, 'CMD')];

describe('the Dockerfile', () => {
  it('passes hadolint, which does catch a bad Dockerfile', async () => {
    const good = await runTool('hadolint', ['Dockerfile']);
    expect(good.code, good.stdout + good.stderr).toBe(0);
    const bad = await runTool('hadolint', ['-'], { stdin: 'FROM node\nRUN cd /app && npm install\n' });
    expect(bad.code).not.toBe(0);
    expect(bad.stdout).toMatch(/DL3006/); // untagged base image
  });

  it('builds on Node of .nvmrc over Debian bookworm slim, in stages, with production dependencies only', async () => {
    const nvmrc = (await readFile(`${REPO}/.nvmrc`, 'utf8')).trim();
    expect(await readFile(`${REPO}/Dockerfile`, 'utf8')).toContain(`ARG NODE_VERSION=${nvmrc}\n`);
    expect(stages.map((s) => s.from)).toEqual(Array(3).fill('node:${NODE_VERSION}-bookworm-slim'));
    expect(runs(stage('build'))).toContain('npm run build');
    expect(runs(stage('production-dependencies')).join(' ')).toMatch(/npm ci --omit=dev/);
    expect(runs(final).join(' ')).toMatch(/apt-get install -y --no-install-recommends chromium fonts-liberation/);
  });

  it('runs as the numeric non-root user 65532 with HOME and TMPDIR on /tmp, and carries OCI labels', () => {
    expect(lastValue(final, 'USER')).toBe('65532:65532');
    expect(environment(final)).toMatchObject({ HOME: '/tmp', TMPDIR: '/tmp', NODE_ENV: 'production' });
    const labels = final.instructions
      .filter((i) => i.keyword === 'LABEL')
      .map((i) => i.args)
      .join(' ');
    for (const key of ['title', 'description', 'licenses', 'source', 'version', 'revision'])
      expect(labels).toContain(`org.opencontainers.image.${key}=`);
  });

  it('is the command the chart and kustomize run, and the runner command starts with the same init', async () => {
    const chart = objectsOf(await renderChart());
    const kustomize = objectsOf(await renderKustomize(`${REPO}/config/default`));
    for (const objects of [chart, kustomize]) {
      const deployment = named(objects, 'Deployment', 'mfa-operator-controller-manager').spec as {
        template: { spec: { containers: Array<{ command: string[] }> } };
      };
      expect(deployment.template.spec.containers[0]!.command).toEqual(imageCommand());
      const settings = objectsOf(
        (named(objects, 'ConfigMap', 'mfa-operator-runner-config').data as Record<string, string>)[
          'runner-config.yaml'
        ]!,
      )[0] as unknown as { command: string[]; workingDir: string };
      expect(settings.command).toEqual([...execForm(final, 'ENTRYPOINT'), 'node', 'dist/operator/runner/main.js']);
      expect(settings.workingDir).toBe(lastValue(final, 'WORKDIR'));
    }
  });
});

/** The build context as .dockerignore leaves it, built by the build stage's own command. */
async function buildLikeTheImage(): Promise<string> {
  const src = join(work, 'src');
  await mkdir(src);
  for (const path of [
    'package.json',
    'package-lock.json',
    'tsconfig.json',
    'tsconfig.build.json',
    'core',
    'operator',
    'connectors',
  ]) {
    await copy(join(REPO, path), join(src, path), {
      recursive: true,
      filter: (p) => !p.endsWith('.test.ts') && basename(p) !== 'node_modules',
    });
  }
  await symlink(join(REPO, 'node_modules'), join(src, 'node_modules'));
  const build = await run(['npm', 'run', 'build'], src);
  if (build.code !== 0)
    throw new Error(`npm run build in the image's build context failed:\n${build.stdout}${build.stderr}`);
  return src;
}

/** /app of the final stage: each COPY of it, from the context or from an earlier stage. */
async function assembleApp(src: string): Promise<string> {
  const app = join(work, 'app');
  await mkdir(app);
  const stageRoots: Record<string, string> = { build: src, 'production-dependencies': REPO };
  for (const copyInstruction of final.instructions.filter((i) => i.keyword === 'COPY')) {
    const [from, to] = copyInstruction.args.split(/\s+/) as [string, string];
    const origin = copyInstruction.flags.from;
    const source = origin ? join(stageRoots[origin]!, from.replace(/^\/(src|app)\//, '')) : join(REPO, from);
    const target = join(app, to);
    await mkdir(dirname(target), { recursive: true });
    if (basename(source) === 'node_modules')
      await symlink(source, target.replace(/\/$/, '')); // dev dependencies too; see report
    else await copy(source, target.endsWith('/') ? join(target, basename(source)) : target, { recursive: true });
  }
  return app;
}

async function imageEnv(extra: NodeJS.ProcessEnv = {}): Promise<NodeJS.ProcessEnv> {
  const PATH = `${dirname(process.execPath)}:${await packagingPath()}`;
  return { PATH, ...environment(final), HOME: work, TMPDIR: work, ...extra };
}

/** argv with the image's absolute tool paths (/usr/bin/tini) looked up on PATH instead. */
function run(
  argv: string[],
  cwd: string,
  env?: NodeJS.ProcessEnv,
  onOutput?: (line: string) => void,
): Promise<CommandResult> & { kill(): void } {
  let child: ReturnType<typeof spawn>;
  const done = (async () => {
    const resolvedEnv = env ?? { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` };
    child = spawn(argv[0]!.startsWith('/usr/bin/') ? basename(argv[0]!) : argv[0]!, argv.slice(1), {
      cwd,
      env: resolvedEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d;
      d.toString()
        .split('\n')
        .filter(Boolean)
        .forEach((l) => onOutput?.(l));
    });
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    return new Promise<CommandResult>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  })();
  return Object.assign(done, { kill: () => child?.kill('SIGTERM') });
}

/**
 * The Deployment's args as the chart renders them, as kubelet would run them here: $(POD_NAMESPACE)
 * expanded, the mounted runner settings and code-service certificate written to files, and free ports
 * instead of 8080 and 8443.
 */
async function chartArgs(): Promise<string[]> {
  const objects = objectsOf(await renderChart({ namespace: 'default' }));
  const settingsFile = join(work, 'runner-config.yaml');
  await writeFile(
    settingsFile,
    (named(objects, 'ConfigMap', 'mfa-operator-runner-config').data as Record<string, string>)['runner-config.yaml']!,
  );
  const tls = join(work, 'code-service-tls');
  await mkdir(tls, { recursive: true });
  for (const [key, value] of Object.entries(
    (named(objects, 'Secret', 'mfa-operator-code-service-tls') as unknown as { data: Record<string, string> }).data,
  )) {
    await writeFile(join(tls, key), Buffer.from(value, 'base64'));
  }
  const codeServicePort = await freeLoopbackPort();
  const deployment = named(objects, 'Deployment', 'mfa-operator-controller-manager').spec as {
    template: { spec: { containers: Array<{ args: string[] }> } };
  };
  return deployment.template.spec.containers[0]!.args.map((arg) =>
    arg
      .replace('$(POD_NAMESPACE)', 'default')
      .replace(/^--http-port=\d+$/, '--http-port=0')
      .replace(/^--code-service-port=\d+$/, `--code-service-port=${codeServicePort}`)
      .replace('/etc/mfa-operator/code-service-tls', tls)
      .replace(/^--runner-config=.*$/, `--runner-config=${settingsFile}`),
  );
}

describe("the image's entry points, from dist/ built and laid out as the Dockerfile does", () => {
  let cp: ControlPlane;
  let app: string;

  beforeAll(async () => {
    [app, cp] = await Promise.all([buildLikeTheImage().then(assembleApp), startClusterWithCrds()]);
  }, 600_000);
  afterAll(async () => {
    await cp?.stop();
  });

  it(
    'the runner (node dist/operator/runner/main.js) starts and explains how to call it',
    async () => {
      const usage = await run(
        [...execForm(final, 'ENTRYPOINT'), 'node', 'dist/operator/runner/main.js'],
        app,
        await imageEnv(),
      );
      expect(usage.code, usage.stderr).toBe(2);
      expect(usage.stderr).toContain('usage: runner --run-spec FILE');
      const missing = await run(
        [
          ...execForm(final, 'ENTRYPOINT'),
          'node',
          'dist/operator/runner/main.js',
          '--run-spec',
          join(work, 'absent.json'),
          '--termination-message-path',
          join(work, 'termination-log'),
        ],
        app,
        await imageEnv(),
      );
      expect(missing.code).toBe(1);
      expect(JSON.parse(missing.stdout.trim())).toMatchObject({ outcome: 'Failed', reason: 'InvalidRunSpec' });
    },
    ENTRY_POINT_TIMEOUT_MS,
  );

  it(
    "the operator (ENTRYPOINT + CMD, with the chart's flags and runner settings) leads, serves probes and metrics, and stops on SIGTERM",
    async () => {
      const lines: string[] = [];
      const operator = run(
        [...imageCommand(), ...(await chartArgs())],
        app,
        await imageEnv({ KUBECONFIG: cp.kubeconfigPath, POD_NAMESPACE: 'default' }),
        (l) => lines.push(l),
      );
      try {
        const records = () =>
          lines.flatMap((l) => {
            try {
              return [JSON.parse(l) as Record<string, unknown>];
            } catch {
              return [];
            }
          });
        // A flag the operator does not know ends it at once: fail with its words, not after a timeout.
        const exitedEarly = operator.then((r) => {
          throw new Error(`the operator exited (${r.code}): ${r.stderr}${r.stdout}`);
        });
        exitedEarly.catch(() => undefined);
        const port = await Promise.race([
          exitedEarly,
          waitFor(
            'the probe server',
            () => records().find((r) => r.msg === 'serving /healthz, /readyz and /metrics')?.port as number | undefined,
            60_000,
          ),
        ]);
        await Promise.race([
          exitedEarly,
          waitFor('caches synced', () => records().some((r) => r.msg === 'caches synced; reconciling'), 60_000),
        ]);
        expect((await httpGet(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
        // Ready needs the code service's watches listed too, which may land after the caches: poll it.
        const ready = await Promise.race([
          exitedEarly,
          waitFor('/readyz 200', async () => (await httpGet(`http://127.0.0.1:${port}/readyz`)).status === 200, 60_000),
        ]);
        expect(ready).toBe(true);
        expect((await httpGet(`http://127.0.0.1:${port}/metrics`)).body).toMatch(/^mfa_operator_leader 1$/m);
      } finally {
        operator.kill();
      }
      const exited = await operator;
      expect(exited.code, exited.stderr).toBe(0);
    },
    ENTRY_POINT_TIMEOUT_MS,
  );
});
