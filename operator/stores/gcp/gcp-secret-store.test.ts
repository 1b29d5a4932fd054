import { generateKeyPairSync } from 'node:crypto';
import { credentials, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SecretManagerTestServer } from '../../../test/gcp-secret-manager/server.ts';
import type { GcpSecretManagerProvider } from '../../api/v1alpha1/types.generated.ts';
import { SecretValue } from '../../../core/secrets/secret-value.ts';
import type { BackoffPolicy } from '../store-retry.ts';
import { describeStoreContract } from '../../../test/stores/contract.ts';
import { newAccount, randomRecoveryCodes, randomSeed } from '../../../test/stores/random-material.ts';
import { GcpSecretStore } from './gcp-secret-store.ts';
import { secretIdFor } from './secret-ids.ts';

const PROJECT = 'mfa-test-project';
const NAMESPACE = 'team-a';
const FAST_BACKOFF: BackoffPolicy = { attempts: 4, initialDelayMs: 5, maxDelayMs: 20, multiplier: 2 };

/** A syntactically real service-account key; the insecure test channel never sends a token, so it is never used to sign. */
function testServiceAccountKey(): SecretValue<string> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return new SecretValue(
    JSON.stringify({
      type: 'service_account',
      project_id: PROJECT,
      client_email: `mfa-operator@${PROJECT}.iam.gserviceaccount.com`,
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    }),
  );
}

let server: SecretManagerTestServer;
let serviceAccountKey: SecretValue<string>;
const stores: GcpSecretStore[] = [];

function storeFor(config: Partial<GcpSecretManagerProvider> = {}): GcpSecretStore {
  const store = GcpSecretStore.create(
    { projectID: PROJECT, ...config },
    { serviceAccountKey },
    {
      backoff: FAST_BACKOFF,
      rpcTimeoutMs: 5_000,
      connection: { apiEndpoint: '127.0.0.1', port: server.port, sslCreds: credentials.createInsecure() },
    },
  );
  stores.push(store);
  return store;
}

let store: GcpSecretStore;

beforeAll(async () => {
  server = await SecretManagerTestServer.start();
  serviceAccountKey = testServiceAccountKey();
  store = storeFor();
});

afterAll(async () => {
  await Promise.all(stores.map((each) => each.close()));
  await server?.stop();
});

beforeEach(() => {
  server?.faults.clear();
});

describeStoreContract('gcpSecretManager', () => ({ provider: store, namespace: NAMESPACE }));

function secretOf(ref: { namespace: string; name: string }, kind: 'seed' | 'recovery-codes') {
  const name = `projects/${PROJECT}/secrets/${secretIdFor({ ...ref, uid: '' }, kind)}`;
  return server.state.secrets().find((secret) => secret.name === name);
}

describe('gcpSecretManager provider', () => {
  it('labels its secrets, keeps seed and recovery codes apart, and aliases active and pending versions', async () => {
    const ref = newAccount(NAMESPACE);
    const first = await store.writePendingSeed(ref, randomSeed());
    await store.promotePendingSeed(ref, first.version);
    const second = await store.writePendingSeed(ref, randomSeed());
    await store.writeRecoveryCodes(ref, randomRecoveryCodes());

    const seed = secretOf(ref, 'seed');
    expect(seed?.labels).toMatchObject({ 'managed-by': 'mfa-operator', 'mfa-operator-material': 'seed' });
    expect(Object.fromEntries(seed?.versionAliases ?? [])).toEqual({
      active: Number(first.version),
      pending: Number(second.version),
    });
    expect(secretOf(ref, 'recovery-codes')?.labels).toMatchObject({ 'mfa-operator-material': 'recovery-codes' });
  });

  it('uses automatic replication with the CMEK key, or user-managed replicas in the given locations', async () => {
    const kmsKeyName = `projects/${PROJECT}/locations/europe-west1/keyRings/mfa/cryptoKeys/seeds`;
    const automatic = newAccount(NAMESPACE);
    const replicated = newAccount(NAMESPACE);
    await storeFor({ kmsKeyName: kmsKeyName.replace('europe-west1', 'global') }).writePendingSeed(
      automatic,
      randomSeed(),
    );
    await storeFor({ replicationLocations: ['europe-west1'], kmsKeyName }).writePendingSeed(replicated, randomSeed());

    expect(secretOf(automatic, 'seed')?.replication).toMatchObject({
      automatic: { customerManagedEncryption: { kmsKeyName: kmsKeyName.replace('europe-west1', 'global') } },
    });
    expect(secretOf(replicated, 'seed')?.replication).toMatchObject({
      userManaged: { replicas: [{ location: 'europe-west1', customerManagedEncryption: { kmsKeyName } }] },
    });
  });

  it('refuses a CMEK key outside a replica location before calling the API', async () => {
    const misplaced = storeFor({
      replicationLocations: ['europe-west4'],
      kmsKeyName: `projects/${PROJECT}/locations/europe-west1/keyRings/r/cryptoKeys/k`,
    });
    await expect(misplaced.writePendingSeed(newAccount(NAMESPACE), randomSeed())).rejects.toMatchObject({
      reason: 'InvalidStoreConfig',
    });
  });

  it('stores regional secrets under the location, without replication', async () => {
    const ref = newAccount(NAMESPACE);
    await storeFor({ location: 'europe-west1' }).writePendingSeed(ref, randomSeed());
    const regional = server.state
      .secrets()
      .find((secret) => secret.name.includes('/locations/europe-west1/') && secret.name.includes(ref.name));
    expect(regional?.replication).toBeNull();
  });

  it('refuses to touch a secret without the managed-by label', async () => {
    const ref = newAccount(NAMESPACE);
    server.state.createSecret(`projects/${PROJECT}`, secretIdFor(ref, 'seed'), {
      replication: { automatic: {} },
      labels: { owner: 'someone-else' },
    });

    await expect(store.writePendingSeed(ref, randomSeed())).rejects.toMatchObject({
      reason: 'NotOwned',
      retryable: false,
    });
    await expect(store.readActiveSeed(ref)).rejects.toMatchObject({ reason: 'NotOwned' });
    await expect(store.delete(ref)).rejects.toMatchObject({ reason: 'NotOwned' });
    expect(secretOf(ref, 'seed')).toBeDefined();
  });

  it('recovers from transient UNAVAILABLE and DEADLINE_EXCEEDED with backoff', async () => {
    const ref = newAccount(NAMESPACE);
    const seed = randomSeed();
    server.faults.failNext('AddSecretVersion', 1, status.UNAVAILABLE);
    server.faults.failNext('AccessSecretVersion', 2, status.DEADLINE_EXCEEDED);

    await store.writePendingSeed(ref, seed);
    const pending = await store.readPendingSeed(ref);

    expect(pending?.seed.secret.reveal()).toBe(seed.secret.reveal());
    expect(server.faults.calls('AccessSecretVersion')).toBeGreaterThanOrEqual(3);
  });

  it('gives up after the bounded attempts with a retryable SecretStoreUnavailable', async () => {
    server.faults.failNext('GetSecret', Infinity, status.UNAVAILABLE);
    server.faults.resetCalls();

    const error = await store.readActiveSeed(newAccount(NAMESPACE)).catch((e: unknown) => e);

    expect(error).toMatchObject({ reason: 'SecretStoreUnavailable', retryable: true });
    expect(server.faults.calls('GetSecret')).toBe(FAST_BACKOFF.attempts);
  });

  it.each([
    [status.PERMISSION_DENIED, 'PermissionDenied'],
    [status.UNAUTHENTICATED, 'AuthFailed'],
    [status.NOT_FOUND, 'NotFound'],
  ] as const)('reports permanent gRPC %s as %s at once, without retrying', async (code, reason) => {
    server.faults.failNext('CreateSecret', Infinity, code);
    server.faults.resetCalls();

    const error = await store.writePendingSeed(newAccount(NAMESPACE), randomSeed()).catch((e: unknown) => e);

    expect(error).toMatchObject({ reason, retryable: false });
    expect(server.faults.calls('CreateSecret')).toBe(1);
  });

  it('keeps a pending seed recoverable when the write fails after the version was added', async () => {
    const ref = newAccount(NAMESPACE);
    const seed = randomSeed();
    // The version lands, every answer is lost, and the alias update never happens.
    server.faults.failNext('AddSecretVersion', Infinity, status.DEADLINE_EXCEEDED, { phase: 'after' });
    server.faults.failNext('UpdateSecret', Infinity, status.UNAVAILABLE);

    await expect(store.writePendingSeed(ref, seed)).rejects.toMatchObject({
      reason: 'SecretStoreUnavailable',
      retryable: true,
    });
    server.faults.clear();

    expect((await store.readPendingSeed(ref))?.seed.secret.reveal()).toBe(seed.secret.reveal());
    const retried = await store.writePendingSeed(ref, seed);
    const versions = server.state.listVersions(secretOf(ref, 'seed')?.name ?? '', undefined).versions;
    expect(versions).toHaveLength(1);
    expect(retried.version).toBe(String(versions[0]?.number));
  });

  it('does not lose the active seed when promotion fails midway', async () => {
    const ref = newAccount(NAMESPACE);
    const active = randomSeed();
    const next = randomSeed();
    await store.promotePendingSeed(ref, (await store.writePendingSeed(ref, active)).version);
    const pending = await store.writePendingSeed(ref, next);
    server.faults.failNext('UpdateSecret', Infinity, status.UNAVAILABLE);

    await expect(store.promotePendingSeed(ref, pending.version)).rejects.toMatchObject({
      reason: 'SecretStoreUnavailable',
    });
    server.faults.clear();

    expect((await store.readActiveSeed(ref))?.seed.secret.reveal()).toBe(active.secret.reveal());
    expect((await store.readPendingSeed(ref))?.seed.secret.reveal()).toBe(next.secret.reveal());
    await store.promotePendingSeed(ref, pending.version);
    expect((await store.readActiveSeed(ref))?.seed.secret.reveal()).toBe(next.secret.reveal());
  });

  it('retries a promotion that lost an etag race and applies it to the fresh state', async () => {
    const ref = newAccount(NAMESPACE);
    const written = await store.writePendingSeed(ref, randomSeed());
    server.faults.failNext('UpdateSecret', 1, status.ABORTED);

    await expect(store.promotePendingSeed(ref, written.version)).resolves.toMatchObject({ version: written.version });
  });

  it('reads metadata from annotations without reading payloads', async () => {
    const ref = newAccount(NAMESPACE);
    await store.promotePendingSeed(ref, (await store.writePendingSeed(ref, randomSeed())).version);
    await store.writeRecoveryCodes(ref, randomRecoveryCodes(5));
    server.faults.resetCalls();

    const metadata = await store.readMetadata(ref);

    expect(metadata.active?.algorithm).toBe('SHA1');
    expect(metadata.recoveryCodes?.count).toBe(5);
    expect(server.faults.calls('AccessSecretVersion')).toBe(0);
  });

  it('deletes its secrets with every version', async () => {
    const ref = newAccount(NAMESPACE);
    await store.writePendingSeed(ref, randomSeed());
    await store.writeRecoveryCodes(ref, randomRecoveryCodes());

    await store.delete(ref);

    expect(secretOf(ref, 'seed')).toBeUndefined();
    expect(secretOf(ref, 'recovery-codes')).toBeUndefined();
  });

  it.each([
    [status.PERMISSION_DENIED, 'PermissionDenied'],
    [status.UNAUTHENTICATED, 'AuthFailed'],
    [status.NOT_FOUND, 'NotFound'],
    [status.UNAVAILABLE, 'Unreachable'],
  ] as const)('validates as not ready when listing fails with gRPC %s (%s)', async (code, reason) => {
    server.faults.failNext('ListSecrets', Infinity, code);
    const validation = await store.validate();
    expect(validation).toMatchObject({ ready: false, reason });
    expect(validation.ready === false && validation.message).toMatch(/projects\/mfa-test-project/);
  });

  // Also guards the client library's unawaited setup promise: an unhandled rejection fails the run.
  it('reports AuthFailed when application default credentials are absent', async () => {
    const previous = process.env.METADATA_SERVER_DETECTION;
    process.env.METADATA_SERVER_DETECTION = 'none';
    const adc = GcpSecretStore.create(
      { projectID: PROJECT },
      {},
      { backoff: FAST_BACKOFF, connection: { apiEndpoint: '127.0.0.1', port: server.port } },
    );
    stores.push(adc);
    try {
      expect(await adc.validate()).toMatchObject({ ready: false, reason: 'AuthFailed' });
    } finally {
      process.env.METADATA_SERVER_DETECTION = previous;
    }
  });

  it('refuses a service-account key that is not a key JSON', () => {
    expect(() =>
      GcpSecretStore.create(
        { projectID: PROJECT },
        { serviceAccountKey: new SecretValue('{"type":"authorized_user","refresh_token":"r-123"}') },
      ),
    ).toThrow(expect.objectContaining({ reason: 'AuthFailed', message: expect.not.stringContaining('r-123') }));
  });
});
