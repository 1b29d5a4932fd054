import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';

/**
 * Setup file of the vitest `unit` project: a unit test that starts a child process, listens on a socket or opens a
 * connection fails at that call, instead of slowing `make test-unit` down or needing what it cannot assume.
 */
function refuse(what: string): () => never {
  return () => {
    throw new Error(
      `${what} in a unit test: unit tests start nothing (docs/development.md, "Test projects"). ` +
        'Import what starts it (vitest.config.ts sorts files by what they use), or add it to STARTS_SOMETHING there.',
    );
  };
}

const SPAWNING = ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const;
Object.assign(childProcess, Object.fromEntries(SPAWNING.map((name) => [name, refuse(`child_process.${name}`)])));
net.Server.prototype.listen = refuse('Listening on a socket');
net.Socket.prototype.connect = refuse('Opening a connection');
// Named imports of node:child_process (`import { spawn }`) see the refusals too.
syncBuiltinESMExports();
