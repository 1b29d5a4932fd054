import {
  Server,
  ServerCredentials,
  status,
  type sendUnaryData,
  type ServerUnaryCall,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { crc32c } from '../../operator/stores/gcp/crc32c.ts';
import { FaultInjector } from './faults.ts';
import { labelFilter, page, secretMessage, stateFilter, versionMessage } from './messages.ts';
import { loadSecretManagerService } from './protos.ts';
import { RpcError } from './rpc-error.ts';
import { SecretManagerState, versionName, type SecretInput } from './secret-manager-state.ts';

interface NamedRequest {
  name: string;
  etag?: string;
}
interface ListRequest {
  parent: string;
  pageSize?: number;
  pageToken?: string;
  filter?: string;
}
interface CreateSecretRequest {
  parent: string;
  secretId: string;
  secret?: SecretInput;
}
interface UpdateSecretRequest {
  secret?: SecretInput & { name?: string };
  updateMask?: { paths?: string[] };
}
interface AddVersionRequest {
  parent: string;
  payload?: { data?: Buffer; dataCrc32c?: string };
}

type Handler = (request: never) => unknown;

/**
 * A local, in-memory implementation of google.cloud.secretmanager.v1.SecretManagerService for
 * tests and development. It is a test component, not an emulator Google ships: it implements the
 * methods the operator uses, with the documented validation rules, etags and version states,
 * plus injectable faults. Plain-text gRPC on 127.0.0.1 only.
 */
export class SecretManagerTestServer {
  readonly state = new SecretManagerState();
  readonly faults = new FaultInjector();
  readonly #server: Server;
  readonly port: number;

  private constructor(server: Server, port: number) {
    this.#server = server;
    this.port = port;
  }

  static async start(options: { port?: number } = {}): Promise<SecretManagerTestServer> {
    const service = await loadSecretManagerService();
    const server = new Server();
    const holder: { instance?: SecretManagerTestServer } = {};
    server.addService(
      service,
      implementation(() => holder.instance as SecretManagerTestServer),
    );
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`127.0.0.1:${options.port ?? 0}`, ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      );
    });
    holder.instance = new SecretManagerTestServer(server, port);
    return holder.instance;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.tryShutdown(() => resolve()));
  }

  /** Runs one call: faults before, the handler, faults after (the change stays applied). */
  call(method: string, handler: () => unknown): unknown {
    const before = this.faults.check(method, 'before');
    if (before) throw before;
    const response = handler();
    const after = this.faults.check(method, 'after');
    if (after) throw after;
    return response;
  }
}

function implementation(server: () => SecretManagerTestServer): UntypedServiceImplementation {
  const handlers = handlersFor(() => server().state);
  return Object.fromEntries(
    Object.entries(handlers).map(([method, handler]) => [
      method,
      (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
        try {
          callback(
            null,
            server().call(method, () => (handler as (request: unknown) => unknown)(call.request)),
          );
        } catch (e: unknown) {
          const error =
            e instanceof RpcError ? e : new RpcError(status.INTERNAL, e instanceof Error ? e.message : String(e));
          callback(error.toServiceError());
        }
      },
    ]),
  );
}

function handlersFor(state: () => SecretManagerState): Record<string, Handler> {
  return {
    CreateSecret: (request: CreateSecretRequest) =>
      secretMessage(state().createSecret(request.parent, request.secretId, request.secret ?? {})),
    GetSecret: (request: NamedRequest) => secretMessage(state().getSecret(request.name)),
    UpdateSecret: (request: UpdateSecretRequest) =>
      secretMessage(
        state().updateSecret(request.secret?.name ?? '', request.secret ?? {}, request.updateMask?.paths ?? []),
      ),
    DeleteSecret: (request: NamedRequest) => {
      state().deleteSecret(request.name, request.etag);
      return {};
    },
    ListSecrets: (request: ListRequest) => {
      const secrets = state()
        .listSecrets(request.parent)
        .filter(labelFilter(request.filter ?? ''));
      const { items, nextPageToken } = page(secrets, request.pageSize ?? 0, request.pageToken ?? '');
      return { secrets: items.map(secretMessage), nextPageToken, totalSize: secrets.length };
    },
    AddSecretVersion: (request: AddVersionRequest) => {
      const checksum = request.payload?.dataCrc32c;
      const { secret, version } = state().addVersion(
        request.parent,
        request.payload?.data ?? Buffer.alloc(0),
        checksum === undefined ? undefined : Number(checksum),
      );
      return versionMessage(secret, version);
    },
    AccessSecretVersion: (request: NamedRequest) => {
      const { secret, version, payload } = state().accessVersion(request.name);
      return { name: versionName(secret, version), payload: { data: payload, dataCrc32c: String(crc32c(payload)) } };
    },
    GetSecretVersion: (request: NamedRequest) => {
      const { secret, version } = state().getVersion(request.name);
      return versionMessage(secret, version);
    },
    ListSecretVersions: (request: ListRequest) => {
      const { secret, versions } = state().listVersions(request.parent, stateFilter(request.filter ?? ''));
      const { items, nextPageToken } = page(versions, request.pageSize ?? 0, request.pageToken ?? '');
      return {
        versions: items.map((version) => versionMessage(secret, version)),
        nextPageToken,
        totalSize: versions.length,
      };
    },
    DestroySecretVersion: (request: NamedRequest) => versionStateChange(state(), request, 'DESTROYED'),
    DisableSecretVersion: (request: NamedRequest) => versionStateChange(state(), request, 'DISABLED'),
    EnableSecretVersion: (request: NamedRequest) => versionStateChange(state(), request, 'ENABLED'),
  };
}

function versionStateChange(
  state: SecretManagerState,
  request: NamedRequest,
  to: 'DESTROYED' | 'DISABLED' | 'ENABLED',
): unknown {
  const { secret, version } = state.setVersionState(request.name, to, request.etag);
  return versionMessage(secret, version);
}
