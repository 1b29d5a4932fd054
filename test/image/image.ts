import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from '../support/cluster.ts';
import { host, type HostCommandResult } from '../cluster/host-command.ts';

/** The image `make image` builds (IMG); the Makefile exports it as MFA_IMAGE. */
export const IMAGE = process.env.MFA_IMAGE || 'localhost/mfa-operator:dev';

/** A cold build (base, apt, npm ci, tsc) took 9 minutes on 2 busy cores; a warm one reuses layers. */
export const IMAGE_BUILD_TIMEOUT_MS = 20 * 60_000;

/** Builds IMAGE from the working tree (podman's layer cache makes a rebuild of unchanged parts quick). */
export async function buildImage(image = IMAGE): Promise<HostCommandResult> {
  return host(`${REPO}/hack/image/build.sh`, [image], { timeoutMs: IMAGE_BUILD_TIMEOUT_MS });
}

/** podman with the containers.conf this host needs (hack/image/containers-conf.sh). */
export class Podman {
  readonly #conf: string;
  readonly #dir: string;

  private constructor(dir: string) {
    this.#dir = dir;
    this.#conf = join(dir, 'containers.conf');
  }

  static async create(): Promise<Podman> {
    const podman = new Podman(await mkdtemp(join(tmpdir(), 'mfa-podman-')));
    const conf = await host(`${REPO}/hack/image/containers-conf.sh`, []);
    await writeFile(podman.#conf, conf.stdout);
    return podman;
  }

  run(args: readonly string[], timeoutMs = 120_000): Promise<HostCommandResult> {
    return host('podman', args, {
      timeoutMs,
      allowFailure: true,
      env: { ...process.env, CONTAINERS_CONF: this.#conf },
    });
  }

  async dispose(): Promise<void> {
    await rm(this.#dir, { recursive: true, force: true });
  }
}
