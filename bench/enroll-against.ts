/**
 * A change's effect on enablement speed, measured in one process: this checkout's runner, the
 * runner of another checkout (`--base`, e.g. a `git worktree add` of the commit before the change,
 * sharing this node_modules) and the bare Playwright floor take turns on one demo app and one
 * browser, in a rotating order. Runs of a machine whose speed drifts during the bench (seen here:
 * the floor went from 1.28 to 1.54 s within ten minutes) still compare, pair by pair.
 *
 *   git worktree add /work/wt/base HEAD~3 && ln -s "$PWD/node_modules" /work/wt/base/node_modules
 *   node bench/enroll-against.ts --base /work/wt/base [--n 30]
 *
 * Iterations in which either runner waited for a fresh TOTP window (its confirmation took over a
 * second) are left out of every figure, so the comparison is of the work, not of the clock.
 * Prints one JSON object. Run by hand; figures go to docs/benchmarks.md.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Browser } from 'playwright-core';
import { startDemoApp, type DemoApp } from '../test/apps/demo/demo-app.ts';
import { launchBrowser } from '../connectors/sdk/browser.ts';
import { createLogger } from '../core/logging/logger.ts';
import { bareEnrollment } from './enroll-floor.ts';
import { median } from './stats.ts';

const { values } = parseArgs({ options: { base: { type: 'string' }, n: { type: 'string', default: '30' } } });
if (!values.base) throw new Error('--base names the other checkout (a directory with operator/ and connectors/)');
const N = Number(values.n);
const silent = createLogger('bench', { level: 'silent' });
const WINDOW_WAIT_MS = 1_000;

type Flow = 'change' | 'base' | 'bare';
/** Each flow once in each position, so none always follows the same one. */
const ORDERS: readonly (readonly Flow[])[] = [
  ['change', 'base', 'bare'],
  ['bare', 'base', 'change'],
  ['base', 'bare', 'change'],
  ['bare', 'change', 'base'],
  ['base', 'change', 'bare'],
  ['change', 'bare', 'base'],
];

interface RunnerModules {
  performRun: typeof import('../operator/runner/run.ts').performRun;
  FileResultSink: typeof import('../operator/runner/file-sink.ts').FileResultSink;
  connectors: typeof import('../connectors/index.ts').connectors;
}

async function runnerOf(root: string): Promise<RunnerModules> {
  const at = (path: string) => join(resolve(root), path);
  const [run, sink, index] = await Promise.all([
    import(at('operator/runner/run.ts')) as Promise<typeof import('../operator/runner/run.ts')>,
    import(at('operator/runner/file-sink.ts')) as Promise<typeof import('../operator/runner/file-sink.ts')>,
    import(at('connectors/index.ts')) as Promise<typeof import('../connectors/index.ts')>,
  ]);
  return { performRun: run.performRun, FileResultSink: sink.FileResultSink, connectors: index.connectors };
}

/** One enablement by `runner`; true when it waited for a fresh TOTP window. */
async function enableWith(runner: RunnerModules, app: DemoApp, browser: Browser, dir: string, id: string) {
  await writeFile(join(dir, `u-${id}`), `${id}@example.com`);
  await writeFile(join(dir, `p-${id}`), 'bench-password');
  const sinkDir = join(dir, `r-${id}`);
  const spec = {
    connector: 'demo',
    action: 'enable' as const,
    loginUrl: `${app.url}/login`,
    credentials: { usernameFile: join(dir, `u-${id}`), passwordFile: join(dir, `p-${id}`) },
    sink: { type: 'file' as const, dir: sinkDir },
  };
  const summary = await runner.performRun(spec, new runner.FileResultSink(sinkDir), {
    connectors: runner.connectors,
    logger: silent,
    browser,
  });
  if (summary.outcome !== 'Enabled') throw new Error(`run ${id} ended ${summary.reason}`);
  return (summary.steps.find((step) => step.name === 'confirmEnrollment')?.durationMs ?? 0) > WINDOW_WAIT_MS;
}

async function main(): Promise<void> {
  const runners = { change: await runnerOf('.'), base: await runnerOf(values.base!) };
  const app = await startDemoApp({ logger: silent });
  const browser = await launchBrowser();
  const dir = await mkdtemp(join(tmpdir(), 'bench-enroll-against-'));
  const ms: Record<Flow, number[]> = { change: [], base: [], bare: [] };
  let windowWaits = 0;
  for (let i = 0; i < N; i++) {
    const row = {} as Record<Flow, number>;
    let waited = false;
    for (const flow of ORDERS[i % ORDERS.length]!) {
      const id = `${flow}${i}`;
      app.accounts.upsert({ email: `${id}@example.com`, password: 'bench-password' });
      const started = performance.now();
      if (flow === 'bare') {
        const context = await browser.newContext();
        await bareEnrollment(await context.newPage(), app.url, `${id}@example.com`, 'bench-password');
        await context.close();
      } else if (await enableWith(runners[flow], app, browser, dir, id)) waited = true;
      row[flow] = performance.now() - started;
    }
    if (waited) windowWaits++;
    else for (const flow of Object.keys(row) as Flow[]) ms[flow].push(row[flow]);
  }
  await browser.close();
  await app.stop();
  await rm(dir, { recursive: true, force: true });
  const medians = { change: median(ms.change), base: median(ms.base), bare: median(ms.bare) };
  const ratio = (a: number[], b: number[]) => Math.round(median(a.map((x, i) => x / b[i]!)) * 1000) / 1000;
  process.stdout.write(
    `${JSON.stringify(
      {
        benchmark: 'enroll-against',
        base: resolve(values.base!),
        iterations: N,
        iterationsCompared: ms.bare.length,
        iterationsLeftOutForWindowWaits: windowWaits,
        medianMs: Object.fromEntries(Object.entries(medians).map(([k, v]) => [k, Math.round(v)])),
        changeOverBareMedianOfPairs: ratio(ms.change, ms.bare),
        baseOverBareMedianOfPairs: ratio(ms.base, ms.bare),
        changeMinusBaseMedianOfPairsMs: Math.round(median(ms.change.map((x, i) => x - ms.base[i]!))),
      },
      null,
      2,
    )}\n`,
  );
}

await main();
