import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../support/cluster.ts';
import { createTestCa } from '../support/test-ca.ts';
import { buildImage, IMAGE, IMAGE_BUILD_TIMEOUT_MS, Podman } from './image.ts';

/** What docs/benchmarks.md records (1.50 GB on 2026-12-01): a jump means a layer grew by mistake. */
const MAX_IMAGE_BYTES = 1_700_000_000;

/** The restricted pod the operator gives its run Jobs, as podman flags: no network, no capabilities. */
const RESTRICTED = [
  'run',
  '--rm',
  '--network=none',
  '--read-only',
  '--tmpfs=/tmp:rw,size=256m',
  '--user=65532:65532',
  '--cap-drop=ALL',
  '--security-opt=no-new-privileges',
];

let podman: Podman;

beforeAll(async () => {
  podman = await Podman.create();
  await buildImage();
}, IMAGE_BUILD_TIMEOUT_MS);
afterAll(async () => {
  await podman?.dispose();
});

async function inspect(format: string): Promise<string> {
  const result = await podman.run(['image', 'inspect', '--format', format, IMAGE]);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.trim();
}

/** `flags` go to podman run before the image (environment, mounts). */
async function runInImage(args: readonly string[], timeoutMs = 120_000, flags: readonly string[] = []) {
  return podman.run([...RESTRICTED, ...flags, IMAGE, ...args], timeoutMs);
}

describe(`the image (${IMAGE})`, () => {
  it('starts the operator under tini as the numeric non-root user 65532, and stays within its size', async () => {
    expect(JSON.parse(await inspect('{{json .Config.Entrypoint}}'))).toEqual(['/usr/bin/tini', '--']);
    expect(JSON.parse(await inspect('{{json .Config.Cmd}}'))).toEqual(['node', 'dist/operator/main.js']);
    expect(await inspect('{{.Config.User}}')).toBe('65532:65532');
    expect(await inspect('{{.Config.WorkingDir}}')).toBe('/app');
    const size = Number(await inspect('{{.Size}}'));
    expect(size).toBeGreaterThan(0);
    expect(size).toBeLessThan(MAX_IMAGE_BYTES);
  });

  it('runs both entry points on a read-only root with no capabilities: bad flags get their usage', async () => {
    const operator = await runInImage(['node', 'dist/operator/main.js', '--no-such-flag']);
    expect(operator.code, operator.stderr).toBe(2);
    expect(operator.stderr).toContain('mfa-operator controller [flags]');
    const runner = await runInImage(['node', 'dist/operator/runner/main.js']);
    expect(runner.code, runner.stderr).toBe(2);
    expect(runner.stderr).toMatch(/--run-spec/);
  });

  it('is read-only outside /tmp, and the user is 65532 with no capabilities', async () => {
    const probe = await runInImage([
      'sh',
      '-c',
      'id -u; grep CapEff /proc/self/status; touch /app/x 2>&1; touch /tmp/x && echo tmp-writable',
    ]);
    expect(probe.stdout).toMatch(/^65532\n/);
    expect(probe.stdout).toMatch(/CapEff:\s+0000000000000000/);
    expect(probe.stdout).toMatch(/Read-only file system/);
    expect(probe.stdout).toContain('tmp-writable');
  });

  it('launches Debian Chromium through playwright-core the way the runner does', async () => {
    const script =
      "const { launchBrowser } = await import('/app/dist/connectors/sdk/browser.js'); " +
      "const browser = await launchBrowser(); const page = await browser.newPage(); await page.setContent('<p id=p>ok</p>'); " +
      "console.log(browser.version(), await page.textContent('#p')); await browser.close();";
    const result = await runInImage(['node', '--input-type=module', '-e', script]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^\d+\.\d+\.\d+\.\d+ ok$/m);
  });

  it("trusts a run's CA (certutil from libnss3-tools) in its Chromium on the restricted pod, and only with that HOME", async () => {
    const tls = await createTestCa();
    try {
      const script =
        "const { createServer } = await import('node:https'); " +
        "const { launchBrowser, CHROMIUM_PATH } = await import('/app/dist/connectors/sdk/browser.js'); " +
        "const { createTrustHome } = await import('/app/dist/connectors/sdk/browser-trust.js'); " +
        "const { parseCaBundle } = await import('/app/dist/core/tls/ca-bundle.js'); " +
        "const server = createServer({ cert: process.env.APP_CERT, key: process.env.APP_KEY }, (q, s) => s.end('<title>trusted</title>')); " +
        "await new Promise((r) => server.listen(0, '127.0.0.1', r)); const url = `https://127.0.0.1:${server.address().port}/`; " +
        'const trust = await createTrustHome(parseCaBundle(process.env.APP_CA, new Date())); ' +
        'for (const options of [{ home: trust.home }, {}]) { const browser = await launchBrowser(CHROMIUM_PATH, options); ' +
        'const page = await browser.newPage(); ' +
        'console.log(await page.goto(url).then(() => page.title(), (e) => /net::ERR_CERT_[A-Z_]+/.exec(e.message)?.[0] ?? e.message)); ' +
        'await browser.close(); } await trust.dispose(); server.close();';
      const env = [
        '-e',
        `APP_CA=${tls.ca.cert}`,
        '-e',
        `APP_CERT=${tls.serving.cert}`,
        '-e',
        `APP_KEY=${tls.serving.key}`,
      ];
      const result = await runInImage(['node', '--input-type=module', '-e', script], 120_000, env);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout.trim().split('\n')).toEqual(['trusted', 'net::ERR_CERT_AUTHORITY_INVALID']);
    } finally {
      await tls.remove();
    }
  });

  it('holds the production dependencies only: no package the lockfile marks dev, no tests, no sources', async () => {
    const lock = JSON.parse(await readFile(`${REPO}/package-lock.json`, 'utf8')) as {
      packages: Record<string, { dev?: boolean; optional?: boolean }>;
    };
    const topLevel = Object.entries(lock.packages).filter(([path]) => /^node_modules\/(@[^/]+\/)?[^/]+$/.test(path));
    const devOnly = topLevel.filter(([, entry]) => entry.dev).map(([path]) => path.slice('node_modules/'.length));
    const production = topLevel
      .filter(([, entry]) => !entry.dev && !entry.optional)
      .map(([path]) => path.slice('node_modules/'.length));
    const listing = await runInImage(['sh', '-c', 'cd /app/node_modules && ls -d * @*/*']);
    expect(listing.code, listing.stderr).toBe(0);
    const installed = new Set(listing.stdout.split('\n').filter((name) => name && !/^@[^/]+$/.test(name)));
    expect(devOnly).toContain('typescript');
    expect(devOnly.filter((name) => installed.has(name))).toEqual([]);
    expect(production.filter((name) => !installed.has(name))).toEqual([]);
    const sources = await runInImage(['sh', '-c', 'find /app/dist -name "*.test.js" | head -3; ls /app']);
    expect(sources.stdout.split('\n').filter(Boolean).sort()).toEqual(['dist', 'node_modules', 'package.json']);
  });
});
