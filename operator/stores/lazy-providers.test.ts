import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

/** Every module URL a fresh Node resolves while importing `entry`, from a resolve hook. */
async function modulesLoadedBy(entry: string): Promise<string[]> {
  const script = `
    import { registerHooks } from 'node:module';
    const seen = [];
    registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.push(r.url); return r; } });
    await import(${JSON.stringify(entry)});
    process.stdout.write(JSON.stringify(seen));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: process.cwd() });
  return JSON.parse(stdout) as string[];
}

describe('store providers are loaded on first use', () => {
  it('the operator loads neither the GCP client nor gRPC until a store uses them', async () => {
    const loaded = await modulesLoadedBy(new URL('../manager.ts', import.meta.url).href);

    expect(loaded.some((url) => url.endsWith('/operator/stores/configured-stores.ts'))).toBe(true);
    expect(loaded.filter((url) => /@google-cloud|@grpc|google-auth|\/stores\/gcp\//.test(url))).toEqual([]);
  });
});
