import { readFile } from 'node:fs/promises';
import { host } from './host-command.ts';

/** mountinfo escapes space, tab, newline and backslash as octal. */
const unescape = (path: string): string =>
  path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));

/** Mount points at or below any of the directories, deepest first. */
export async function mountsUnder(directories: readonly string[]): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  const points = info
    .split('\n')
    .filter(Boolean)
    .map((line) => unescape(line.split(' ')[4]!));
  const inside = points.filter((point) => directories.some((dir) => point === dir || point.startsWith(`${dir}/`)));
  return [...new Set(inside)].sort((a, b) => b.length - a.length);
}

/** Detaches every mount below the directories (kubelet's volumes, containerd's rootfs, netns, shm). */
export async function unmountUnder(directories: readonly string[]): Promise<void> {
  for (let round = 0; round < 5; round++) {
    const points = await mountsUnder(directories);
    if (points.length === 0) return;
    for (const point of points) await host('umount', ['--lazy', point], { allowFailure: true });
  }
}
