import { KubeConfig } from '@kubernetes/client-node';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TotpSeed } from '../../core/totp/totp-seed.ts';
import { KubernetesSecretStore } from '../../operator/stores/kubernetes/kubernetes-secret-store.ts';
import { NETWORK } from '../cluster/network-plan.ts';
import { CertificateDirectory } from '../envtest/certificates.ts';
import { runCommand } from './command.ts';
import type { E2eEnvironment } from './e2e-environment.ts';
import { kubectlOk } from './kubectl.ts';
import { pluginPath } from './kubectl-mfa.ts';
import { credentialsSecret, managedAccountMfa } from './resources.ts';
import { startTlsFront, type TlsFront } from './tls-front.ts';
import { waitFor } from './wait.ts';

const NS = 'default';
const PERIOD_MS = 30_000;

export interface AppSite {
  /** The app's origin on this host's loopback. */
  url: string;
  loginUrl: string;
}

/**
 * A real app on this host driven through the whole product (the connectors' through-operator suites): run pods
 * reach it through an HTTPS front on the node address, from a throwaway CA in a ConfigMap the resources name;
 * the suite applies accounts, reads what the operator stored and asks `kubectl mfa code` as an admin would.
 */
export class AppThroughOperator {
  /** Every password, seed and recovery code the suite used: the secret scan looks for each. */
  readonly secretsUsed: string[] = [];
  readonly store: KubernetesSecretStore;

  readonly #env: E2eEnvironment;
  readonly #connector: string;
  readonly #dir: string;
  readonly #front: TlsFront;
  /** PATH with the `kubectl mfa` plugin of this checkout. */
  readonly #path: string;
  /** The sign-in page as run pods reach it: through the HTTPS front on the node address. */
  readonly podLoginUrl: string;

  private constructor(
    env: E2eEnvironment,
    connector: string,
    dir: string,
    front: TlsFront,
    path: string,
    podLoginUrl: string,
  ) {
    [this.#env, this.#connector, this.#dir, this.#front, this.#path, this.podLoginUrl] = [
      env,
      connector,
      dir,
      front,
      path,
      podLoginUrl,
    ];
    const kc = new KubeConfig();
    kc.loadFromFile(env.cp.kubeconfigPath);
    this.store = new KubernetesSecretStore(kc);
  }

  static async start(env: E2eEnvironment, connector: string, site: AppSite): Promise<AppThroughOperator> {
    const dir = await mkdtemp(join(tmpdir(), `mfa-${connector}-front-`));
    const certificates = await CertificateDirectory.create(dir);
    const ca = await certificates.createCertificateAuthority(`${connector}-front-ca`);
    const serving = await certificates.issueServingCertificate(`${connector}-front`, ca, [NETWORK.nodeAddress]);
    const front = await startTlsFront(new URL(site.url), NETWORK.nodeAddress, {
      cert: await readFile(serving.certPath, 'utf8'),
      key: await readFile(serving.keyPath, 'utf8'),
    });
    await kubectlOk(env.cp.kubeconfigPath, [
      'create',
      'configmap',
      `${connector}-ca`,
      '-n',
      NS,
      `--from-file=ca.crt=${ca.certPath}`,
    ]);
    return new AppThroughOperator(
      env,
      connector,
      dir,
      front,
      await pluginPath(dir),
      site.loginUrl.replace(site.url, front.url),
    );
  }

  async stop(): Promise<void> {
    await this.#front.stop();
    await rm(this.#dir, { recursive: true, force: true });
  }

  async getMfa(name: string): Promise<any> {
    return JSON.parse(await kubectlOk(this.#env.cp.kubeconfigPath, ['get', 'mfa', name, '-n', NS, '-o', 'json']));
  }

  async applyAccount(name: string, username: string, password: string): Promise<void> {
    this.secretsUsed.push(password);
    await kubectlOk(
      this.#env.cp.kubeconfigPath,
      ['apply', '-f', '-'],
      credentialsSecret(`${name}-login`, NS, { username, password }),
    );
    await kubectlOk(
      this.#env.cp.kubeconfigPath,
      ['apply', '-f', '-'],
      managedAccountMfa(name, NS, {
        connector: this.#connector,
        account: {
          displayName: name,
          loginUrl: this.podLoginUrl,
          caBundleRef: { configMapName: `${this.#connector}-ca` },
          credentialsSecretRef: { name: `${name}-login` },
        },
      }),
    );
  }

  async activeSeed(name: string): Promise<TotpSeed> {
    const mfa = await this.getMfa(name);
    const stored = await this.store.readActiveSeed({ namespace: NS, name, uid: mfa.metadata.uid });
    if (!stored) throw new Error(`no active seed stored for ${name}`);
    this.secretsUsed.push(stored.seed.secret.reveal());
    return stored.seed;
  }

  /** `kubectl mfa code NAME --once --direct`, as an admin types it: the plugin found on PATH. */
  async kubectlMfaCode(name: string): Promise<string> {
    const result = await runCommand(
      'kubectl',
      ['mfa', 'code', name, '-n', NS, '--once', '--direct', '--kubeconfig', this.#env.cp.kubeconfigPath],
      { env: { ...process.env, PATH: this.#path } },
    );
    if (result.code !== 0) throw new Error(`kubectl mfa code failed: ${result.stderr}`);
    return result.stdout.trim();
  }

  /**
   * Apps accept a code once and only around its own 30 s window; the run Job may have just used this window's
   * code to confirm the enrolment. A refused code is tried once more in the next window. `signIn` signs in by
   * hand with a code and answers the signed-in username, or undefined if refused.
   */
  async signInWithCodeFrom(
    code: () => Promise<string>,
    signIn: (code: string) => Promise<string | undefined>,
  ): Promise<string | undefined> {
    for (let attempt = 1; ; attempt++) {
      await nextWindowIfEnding();
      const window = Math.floor(Date.now() / PERIOD_MS);
      const signedIn = await signIn(await code());
      if (signedIn || attempt === 2) return signedIn;
      await waitFor('the next TOTP window', () => Math.floor(Date.now() / PERIOD_MS) > window, PERIOD_MS + 1_000, 250);
    }
  }
}

async function nextWindowIfEnding(): Promise<void> {
  const window = Math.floor(Date.now() / PERIOD_MS);
  if (PERIOD_MS - (Date.now() % PERIOD_MS) > 5_000) return;
  await waitFor('the next TOTP window', () => Math.floor(Date.now() / PERIOD_MS) > window, 6_000, 100);
}
