import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { credentials, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SecretManagerTestServer } from './server.ts';

// The server is exercised through the production client so both sides agree on the wire format.
// No Google metadata server exists here; stop the auth library from looking for one.
process.env.METADATA_SERVER_DETECTION = 'none';

let server: SecretManagerTestServer;
let client: SecretManagerServiceClient;
const project = 'projects/test-project';
const noRetry = { retry: null, timeout: 5_000 };

beforeAll(async () => {
  server = await SecretManagerTestServer.start();
  client = new SecretManagerServiceClient({
    apiEndpoint: '127.0.0.1',
    port: server.port,
    sslCreds: credentials.createInsecure(),
  });
});

afterAll(async () => {
  await client?.close();
  await server?.stop();
});

beforeEach(() => {
  server.faults.clear();
});

let counter = 0;
async function newSecret(labels: Record<string, string> = {}): Promise<string> {
  const [secret] = await client.createSecret({
    parent: project,
    secretId: `s${++counter}`,
    secret: { replication: { automatic: {} }, labels },
  });
  return secret.name as string;
}

async function addVersion(parent: string, text: string): Promise<string> {
  const [version] = await client.addSecretVersion({ parent, payload: { data: Buffer.from(text) } });
  return version.name as string;
}

describe('SecretManagerTestServer', () => {
  it('creates a secret with labels and refuses a duplicate id', async () => {
    const name = await newSecret({ 'managed-by': 'mfa-operator' });
    const [secret] = await client.getSecret({ name });
    expect(secret.labels).toEqual({ 'managed-by': 'mfa-operator' });
    await expect(
      client.createSecret({
        parent: project,
        secretId: name.split('/').at(-1),
        secret: { replication: { automatic: {} } },
      }),
    ).rejects.toMatchObject({ code: status.ALREADY_EXISTS });
  });

  it('rejects ids, labels and replication that Secret Manager rejects', async () => {
    await expect(
      client.createSecret({ parent: project, secretId: 'has.dot', secret: { replication: { automatic: {} } } }),
    ).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    await expect(
      client.createSecret({
        parent: project,
        secretId: 'upper',
        secret: { replication: { automatic: {} }, labels: { Key: 'v' } },
      }),
    ).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    await expect(client.createSecret({ parent: project, secretId: 'norepl', secret: {} })).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
    });
  });

  it('numbers versions and resolves latest, numbers and aliases', async () => {
    const parent = await newSecret();
    await addVersion(parent, 'one');
    const second = await addVersion(parent, 'two');
    expect(second).toBe(`${parent}/versions/2`);
    await client.updateSecret({
      secret: { name: parent, versionAliases: { active: 1 } },
      updateMask: { paths: ['version_aliases'] },
    });

    const [latest] = await client.accessSecretVersion({ name: `${parent}/versions/latest` });
    const [aliased] = await client.accessSecretVersion({ name: `${parent}/versions/active` });
    expect(latest.payload?.data?.toString()).toBe('two');
    expect(aliased.name).toBe(`${parent}/versions/1`);
    expect(aliased.payload?.data?.toString()).toBe('one');
    const [described] = await client.getSecretVersion({ name: `${parent}/versions/active` });
    expect(described).toMatchObject({ name: `${parent}/versions/1`, state: 'ENABLED' });
  });

  it('updates only the fields in the mask and rejects a stale etag', async () => {
    const name = await newSecret({ a: '1' });
    const [before] = await client.getSecret({ name });
    await client.updateSecret({
      secret: { name, annotations: { note: 'x' }, labels: { b: '2' } },
      updateMask: { paths: ['annotations'] },
    });
    const [after] = await client.getSecret({ name });
    expect(after.labels).toEqual({ a: '1' });
    expect(after.annotations).toEqual({ note: 'x' });
    await expect(
      client.updateSecret({ secret: { name, etag: before.etag, labels: {} }, updateMask: { paths: ['labels'] } }),
    ).rejects.toMatchObject({ code: status.ABORTED });
  });

  it('refuses an alias to a missing version', async () => {
    const name = await newSecret();
    await expect(
      client.updateSecret({
        secret: { name, versionAliases: { pending: 9 } },
        updateMask: { paths: ['version_aliases'] },
      }),
    ).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
  });

  it('lists secrets by label, page by page', async () => {
    const names = [
      await newSecret({ team: 'listing' }),
      await newSecret({ team: 'listing' }),
      await newSecret({ team: 'other' }),
    ];
    const filter = 'labels.team=listing';
    const [first, , firstResponse] = await client.listSecrets(
      { parent: project, filter, pageSize: 1 },
      { autoPaginate: false },
    );
    const [second, , secondResponse] = await client.listSecrets(
      { parent: project, filter, pageSize: 1, pageToken: firstResponse?.nextPageToken ?? '' },
      { autoPaginate: false },
    );
    expect([...first, ...second].map((secret) => secret.name)).toEqual(names.slice(0, 2));
    expect(secondResponse?.nextPageToken ?? '').toBe('');
  });

  it('disables and destroys versions; access then fails with FAILED_PRECONDITION', async () => {
    const parent = await newSecret();
    const first = await addVersion(parent, 'one');
    const second = await addVersion(parent, 'two');
    await client.disableSecretVersion({ name: first });
    await client.destroySecretVersion({ name: second });
    await expect(client.accessSecretVersion({ name: first }, noRetry)).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
    });
    await expect(client.accessSecretVersion({ name: second }, noRetry)).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
    });
    const [versions] = await client.listSecretVersions({ parent });
    expect(versions.map((version) => version.state)).toEqual(['DESTROYED', 'DISABLED']);
  });

  it('deletes a secret with all its versions', async () => {
    const name = await newSecret();
    await addVersion(name, 'one');
    await client.deleteSecret({ name });
    await expect(client.getSecret({ name })).rejects.toMatchObject({ code: status.NOT_FOUND });
  });

  it('fails the next N calls of a method with the injected code', async () => {
    const name = await newSecret();
    server.faults.failNext('GetSecret', 2, status.UNAVAILABLE);
    await expect(client.getSecret({ name }, noRetry)).rejects.toMatchObject({ code: status.UNAVAILABLE });
    await expect(client.getSecret({ name }, noRetry)).rejects.toMatchObject({ code: status.UNAVAILABLE });
    await expect(client.getSecret({ name }, noRetry)).resolves.toBeDefined();
  });

  it('fails after the Nth call, and can apply the change before failing', async () => {
    const parent = await newSecret();
    server.faults.failAfter('AddSecretVersion', 1, status.DEADLINE_EXCEEDED, { phase: 'after' });
    await addVersion(parent, 'one');
    await expect(
      client.addSecretVersion({ parent, payload: { data: Buffer.from('two') } }, noRetry),
    ).rejects.toMatchObject({ code: status.DEADLINE_EXCEEDED });
    const [versions] = await client.listSecretVersions({ parent });
    expect(versions).toHaveLength(2);
  });

  it('rejects a payload whose checksum does not match', async () => {
    const parent = await newSecret();
    await expect(
      client.addSecretVersion({ parent, payload: { data: Buffer.from('x'), dataCrc32c: 1 } }),
    ).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
  });
});
