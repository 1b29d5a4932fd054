import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api, type V1Secret } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type ControlPlane } from '../../../test/envtest/control-plane.ts';
import { freeLoopbackPort } from '../../../test/envtest/ports.ts';
import type { BackoffPolicy } from '../store-retry.ts';
import { describeStoreContract } from '../../../test/stores/contract.ts';
import { newAccount, randomRecoveryCodes, randomSeed } from '../../../test/stores/random-material.ts';
import type { AccountRef } from '../provider.ts';
import { REQUIRED_SECRET_VERBS } from './access-review.ts';
import { KubernetesSecretStore } from './kubernetes-secret-store.ts';
import { secretNameFor } from './secret-names.ts';

const FAST_BACKOFF: BackoffPolicy = { attempts: 8, initialDelayMs: 5, maxDelayMs: 50, multiplier: 2 };

let controlPlane: ControlPlane;
let admin: CoreV1Api;
let namespace: string;
/** The provider as a user holding only the Role the provider documents, like the operator in production. */
let restricted: KubernetesSecretStore;
let restrictedConfig: KubeConfig;

async function userConfig(name: string): Promise<KubeConfig> {
  const config = new KubeConfig();
  config.loadFromFile(await controlPlane.createUser(name));
  return config;
}

async function grant(user: string, verbs: readonly string[]): Promise<void> {
  const rbac = controlPlane.kubeConfig().makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({
    namespace,
    body: { metadata: { name: user }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: [...verbs] }] },
  });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: user },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: user },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
    },
  });
}

beforeAll(async () => {
  controlPlane = await startControlPlane({ auditLog: true });
  admin = controlPlane.kubeConfig().makeApiClient(CoreV1Api);
  namespace = `stores-${randomBytes(3).toString('hex')}`;
  await admin.createNamespace({ body: { metadata: { name: namespace } } });
  await grant('mfa-operator-store', REQUIRED_SECRET_VERBS);
  restrictedConfig = await userConfig('mfa-operator-store');
  restricted = new KubernetesSecretStore(restrictedConfig, { validationNamespace: namespace, backoff: FAST_BACKOFF });
});

afterAll(async () => {
  await controlPlane?.stop();
});

describeStoreContract('kubernetes (as a user with only the documented Role)', () => ({
  provider: restricted,
  namespace,
}));

function readSecret(ref: AccountRef, kind: 'seed' | 'recovery-codes'): Promise<V1Secret> {
  return admin.readNamespacedSecret({ name: secretNameFor(ref, kind), namespace });
}

interface AuditEvent {
  verb: string;
  objectRef?: { resource?: string; namespace?: string; name?: string };
}

/**
 * Writes (create, update, patch, delete) the API server audited for one Secret. A no-op update
 * keeps the resourceVersion, so only the audit log shows whether the provider sent one at all.
 * A marker request is awaited first so every earlier event is on disk.
 */
async function auditedWrites(secretName: string): Promise<number> {
  const marker = `audit-marker-${randomBytes(4).toString('hex')}`;
  await admin.readNamespacedSecret({ name: marker, namespace }).catch(() => undefined);
  for (let attempt = 0; attempt < 50; attempt++) {
    const events = (await readFile(controlPlane.auditLogPath ?? '', 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as AuditEvent);
    if (events.some((event) => event.objectRef?.name === marker)) {
      return events.filter(
        (event) =>
          event.objectRef?.resource === 'secrets' &&
          event.objectRef.namespace === namespace &&
          event.objectRef.name === secretName &&
          ['create', 'update', 'patch', 'delete'].includes(event.verb),
      ).length;
    }
    await sleep(100);
  }
  throw new Error('the audit log never showed the marker request');
}

describe('kubernetes provider', () => {
  it('keeps seed and recovery codes in separate labelled Secrets, with parameters in annotations', async () => {
    const ref = newAccount(namespace);
    const active = randomSeed();
    const pending = randomSeed();
    await restricted.promotePendingSeed(ref, (await restricted.writePendingSeed(ref, active)).version);
    await restricted.writePendingSeed(ref, pending);
    await restricted.writeRecoveryCodes(ref, randomRecoveryCodes());

    const seed = await readSecret(ref, 'seed');
    const codes = await readSecret(ref, 'recovery-codes');

    expect(seed.metadata?.name).toBe(`${ref.name}-mfa-seed`);
    expect(seed.metadata?.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'mfa-operator',
      'mfa-operator.io/account': ref.name,
      'mfa-operator.io/material': 'seed',
    });
    expect(Object.keys(seed.data ?? {}).sort()).toEqual(['active', 'pending']);
    expect(Buffer.from(seed.data?.active ?? '', 'base64').toString()).toBe(active.secret.reveal());
    expect(JSON.parse(seed.metadata?.annotations?.['mfa-operator.io/active-seed'] ?? '{}')).toMatchObject({
      algorithm: 'SHA1',
      version: '1',
    });
    expect(JSON.stringify(seed.metadata)).not.toContain(active.secret.reveal());
    expect(codes.metadata?.name).toBe(`${ref.name}-mfa-recovery-codes`);
    expect(Object.keys(codes.data ?? {})).toEqual(['codes']);
  });

  it('refuses to touch an existing Secret without the managed-by label', async () => {
    const ref = newAccount(namespace);
    const foreign = await admin.createNamespacedSecret({
      namespace,
      body: { metadata: { name: secretNameFor(ref, 'seed') }, stringData: { pending: 'theirs' } },
    });

    await expect(restricted.writePendingSeed(ref, randomSeed())).rejects.toMatchObject({
      reason: 'NotOwned',
      retryable: false,
    });
    await expect(restricted.readPendingSeed(ref)).rejects.toMatchObject({ reason: 'NotOwned' });
    await expect(restricted.delete(ref)).rejects.toMatchObject({ reason: 'NotOwned' });
    expect((await readSecret(ref, 'seed')).metadata?.resourceVersion).toBe(foreign.metadata?.resourceVersion);
  });

  it('refuses a managed Secret that belongs to another account', async () => {
    const ref = newAccount(namespace);
    await admin.createNamespacedSecret({
      namespace,
      body: {
        metadata: {
          name: secretNameFor(ref, 'seed'),
          labels: { 'app.kubernetes.io/managed-by': 'mfa-operator', 'mfa-operator.io/material': 'seed' },
          annotations: { 'mfa-operator.io/account': 'someone-else' },
        },
      },
    });

    await expect(restricted.writePendingSeed(ref, randomSeed())).rejects.toMatchObject({ reason: 'NotOwned' });
  });

  it('sends no write at all when the same material is written again (resourceVersion unchanged)', async () => {
    const ref = newAccount(namespace);
    const seed = randomSeed();
    const codes = randomRecoveryCodes();
    await restricted.writePendingSeed(ref, seed);
    await restricted.writeRecoveryCodes(ref, codes);
    const seedVersion = (await readSecret(ref, 'seed')).metadata?.resourceVersion;
    const codesVersion = (await readSecret(ref, 'recovery-codes')).metadata?.resourceVersion;
    const writesBefore =
      (await auditedWrites(secretNameFor(ref, 'seed'))) + (await auditedWrites(secretNameFor(ref, 'recovery-codes')));

    await restricted.writePendingSeed(ref, seed);
    await restricted.writeRecoveryCodes(ref, codes);

    expect((await readSecret(ref, 'seed')).metadata?.resourceVersion).toBe(seedVersion);
    expect((await readSecret(ref, 'recovery-codes')).metadata?.resourceVersion).toBe(codesVersion);
    expect(
      (await auditedWrites(secretNameFor(ref, 'seed'))) + (await auditedWrites(secretNameFor(ref, 'recovery-codes'))),
    ).toBe(writesBefore);
    await restricted.writePendingSeed(ref, randomSeed());
    expect((await readSecret(ref, 'seed')).metadata?.resourceVersion).not.toBe(seedVersion);
  });

  it('loses no write when writers race: conflicts are retried on fresh state', async () => {
    const ref = newAccount(namespace);
    const writers = Array.from(
      { length: 4 },
      () => new KubernetesSecretStore(restrictedConfig, { backoff: FAST_BACKOFF }),
    );
    const seeds = writers.map(() => randomSeed());

    const written = await Promise.all(
      writers.map((writer, i) => writer.writePendingSeed(ref, seeds[i] ?? randomSeed())),
    );

    const versions = written.map((metadata) => Number(metadata.version)).sort((a, b) => a - b);
    expect(versions).toEqual([1, 2, 3, 4]);
    const last = written.findIndex((metadata) => metadata.version === '4');
    expect((await restricted.readPendingSeed(ref))?.seed.secret.reveal()).toBe(seeds[last]?.secret.reveal());
  });

  it('sets an owner reference to the ManagedAccountMfa only when the store asks for it', async () => {
    const owned = new KubernetesSecretStore(restrictedConfig, { setOwnerReferences: true, backoff: FAST_BACKOFF });
    const ref = newAccount(namespace);
    await owned.writePendingSeed(ref, randomSeed());
    expect((await readSecret(ref, 'seed')).metadata?.ownerReferences).toEqual([
      expect.objectContaining({
        apiVersion: 'mfa-operator.io/v1alpha1',
        kind: 'ManagedAccountMfa',
        name: ref.name,
        uid: ref.uid,
      }),
    ]);

    await restricted.writePendingSeed(ref, randomSeed());
    expect((await readSecret(ref, 'seed')).metadata?.ownerReferences ?? []).toEqual([]);
  });

  it('shortens Secret names and labels of very long account names', async () => {
    const ref = { ...newAccount(namespace), name: `a${'b'.repeat(240)}.c${'d'.repeat(10)}` };
    const seed = randomSeed();

    await restricted.writePendingSeed(ref, seed);
    await restricted.writeRecoveryCodes(ref, randomRecoveryCodes());

    const stored = await readSecret(ref, 'recovery-codes');
    expect(stored.metadata?.name?.length).toBeLessThanOrEqual(253);
    expect(stored.metadata?.labels?.['mfa-operator.io/account']?.length).toBeLessThanOrEqual(63);
    expect((await restricted.readPendingSeed(ref))?.seed.secret.reveal()).toBe(seed.secret.reveal());
  });

  it('reports PermissionDenied, naming the missing verbs, for a user without the Role', async () => {
    await grant('read-only', ['get']);
    const readOnly = new KubernetesSecretStore(await userConfig('read-only'), {
      validationNamespace: namespace,
      backoff: FAST_BACKOFF,
    });

    const validation = await readOnly.validate();

    expect(validation).toMatchObject({ ready: false, reason: 'PermissionDenied' });
    expect(validation.ready === false && validation.message).toMatch(/may not create, update, delete Secrets/);
    await expect(readOnly.writePendingSeed(newAccount(namespace), randomSeed())).rejects.toMatchObject({
      reason: 'PermissionDenied',
      retryable: false,
    });
  });

  it('reports an unreachable API server as Unreachable and retryable', async () => {
    const offline = new KubeConfig();
    offline.loadFromOptions({
      clusters: [{ name: 'offline', server: `https://127.0.0.1:${await freeLoopbackPort()}`, skipTLSVerify: true }],
      users: [{ name: 'offline', token: 'unused' }],
      contexts: [{ name: 'offline', cluster: 'offline', user: 'offline' }],
      currentContext: 'offline',
    });
    const store = new KubernetesSecretStore(offline, { backoff: { ...FAST_BACKOFF, attempts: 2 } });

    expect(await store.validate()).toMatchObject({ ready: false, reason: 'Unreachable' });
    await expect(store.readActiveSeed(newAccount(namespace))).rejects.toMatchObject({
      reason: 'SecretStoreUnavailable',
      retryable: true,
    });
  });
});
