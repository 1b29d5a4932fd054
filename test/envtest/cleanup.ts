import { rmSync } from 'node:fs';

// Everything a control plane left running or on disk, so that an exit or a signal that skips
// stop() (Ctrl-C, a killed test worker, process.exit) still leaves nothing behind.
const processGroups = new Set<number>();
const directories = new Set<string>();
const TERMINATING_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let installed = false;

function removeEverythingNow(): void {
  for (const pgid of processGroups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // The group is already gone.
    }
  }
  processGroups.clear();
  for (const dir of directories) rmSync(dir, { recursive: true, force: true });
  directories.clear();
}

function onTerminatingSignal(signal: NodeJS.Signals): void {
  removeEverythingNow();
  // Alone, we must not swallow the signal: restore the default action and raise it again.
  if (process.listenerCount(signal) === 1) {
    process.removeListener(signal, onTerminatingSignal);
    process.kill(process.pid, signal);
  }
}

function installOnce(): void {
  if (installed) return;
  installed = true;
  process.once('exit', removeEverythingNow);
  for (const signal of TERMINATING_SIGNALS) process.on(signal, onTerminatingSignal);
}

export function trackProcessGroup(pgid: number): void {
  installOnce();
  processGroups.add(pgid);
}

export function untrackProcessGroup(pgid: number): void {
  processGroups.delete(pgid);
}

export function trackDirectory(dir: string): void {
  installOnce();
  directories.add(dir);
}

export function untrackDirectory(dir: string): void {
  directories.delete(dir);
}
