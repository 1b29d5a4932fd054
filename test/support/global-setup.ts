import { execFileSync } from 'node:child_process';
import { REPO } from './cluster.ts';

/**
 * Run Jobs execute `node dist/operator/runner/main.js`, as in the image, so dist/ must be current.
 * `make test` builds before vitest and says so with MFA_DIST_BUILT; a bare `npx vitest` builds here.
 */
export default function setup(): void {
  if (process.env.MFA_DIST_BUILT === '1') return;
  execFileSync(process.execPath, [`${REPO}/node_modules/typescript/bin/tsc`, '-p', `${REPO}/tsconfig.build.json`], {
    stdio: 'inherit',
  });
  // Both projects that start things name this setup; the second one finds dist/ built.
  process.env.MFA_DIST_BUILT = '1';
}
