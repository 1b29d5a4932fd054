import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import type { ChannelCredentials } from '@grpc/grpc-js';
import { JWT } from 'google-auth-library';
import type { GcpSecretManagerProvider } from '../../api/v1alpha1/types.generated.ts';
import type { SecretValue } from '../../../core/secrets/secret-value.ts';
import { StoreError } from '../store-error.ts';

/** How the operator proves who it is; without a key, application default credentials (Workload Identity). */
export interface GcpCredentials {
  /** The service-account key JSON read from the store's auth.secretRef. */
  readonly serviceAccountKey?: SecretValue<string>;
}

/**
 * Where the gRPC channel goes. Production leaves it empty; tests point the same client at the
 * local test server (`apiEndpoint: '127.0.0.1'`, its port, insecure channel credentials).
 */
export interface SecretManagerConnection {
  readonly apiEndpoint?: string;
  readonly port?: number;
  readonly sslCreds?: ChannelCredentials;
}

interface ServiceAccountKey {
  type?: unknown;
  client_email?: unknown;
  private_key?: unknown;
}

const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

/**
 * Builds the service-account credential explicitly rather than letting the auth library pick a
 * credential type from the JSON, which would let a crafted key select another flow.
 */
function serviceAccountClient(key: SecretValue<string>): JWT {
  let parsed: ServiceAccountKey;
  try {
    parsed = JSON.parse(key.reveal()) as ServiceAccountKey;
  } catch {
    throw new StoreError(
      'AuthFailed',
      'The referenced service-account key is not JSON; store the key file exactly as Google Cloud issued it.',
    );
  }
  if (
    parsed?.type !== 'service_account' ||
    typeof parsed.client_email !== 'string' ||
    typeof parsed.private_key !== 'string'
  ) {
    throw new StoreError(
      'AuthFailed',
      "The referenced key is not a service-account key (type service_account with client_email and private_key); create a key for the operator's service account.",
    );
  }
  return new JWT({ email: parsed.client_email, key: parsed.private_key, scopes: [CLOUD_PLATFORM_SCOPE] });
}

/** Regional secrets are served from the region's own endpoint. */
function endpointFor(config: GcpSecretManagerProvider): string | undefined {
  return config.location ? `secretmanager.${config.location}.rep.googleapis.com` : undefined;
}

/**
 * Makes Secret Manager clients for one store. A factory rather than one client because a client
 * whose channel setup failed (no credentials yet) stays broken; the provider replaces it. The key
 * is checked here, once, so a bad key fails when the store is configured.
 */
export function secretManagerClientFactory(
  config: GcpSecretManagerProvider,
  credentials: GcpCredentials = {},
  connection: SecretManagerConnection = {},
): () => SecretManagerServiceClient {
  const apiEndpoint = connection.apiEndpoint ?? endpointFor(config);
  const authClient = credentials.serviceAccountKey ? serviceAccountClient(credentials.serviceAccountKey) : undefined;
  return () =>
    new SecretManagerServiceClient({
      projectId: config.projectID,
      ...(authClient ? { authClient } : {}),
      ...(apiEndpoint ? { apiEndpoint } : {}),
      ...(connection.port ? { port: connection.port } : {}),
      ...(connection.sslCreds ? { sslCreds: connection.sslCreds } : {}),
    });
}
