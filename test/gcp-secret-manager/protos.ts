import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { loadPackageDefinition, type ServiceDefinition } from '@grpc/grpc-js';
import { load } from '@grpc/proto-loader';

/**
 * The service definition from the protos shipped inside @google-cloud/secret-manager, with the
 * google/api, google/iam and google/protobuf imports from the google-gax it depends on. The
 * server therefore speaks exactly the wire format the production client was generated from.
 */
export async function loadSecretManagerService(): Promise<ServiceDefinition> {
  const require = createRequire(import.meta.url);
  const clientMain = require.resolve('@google-cloud/secret-manager');
  const gaxMain = createRequire(clientMain).resolve('google-gax');
  const includeDirs = [join(dirname(clientMain), '..', 'protos'), join(dirname(gaxMain), '..', 'protos')];
  const definition = await load('google/cloud/secretmanager/v1/service.proto', {
    includeDirs,
    keepCase: false,
    longs: String,
    enums: String,
    defaults: false,
    oneofs: true,
  });
  const root = loadPackageDefinition(definition) as unknown as {
    google: { cloud: { secretmanager: { v1: { SecretManagerService: { service: ServiceDefinition } } } } };
  };
  return root.google.cloud.secretmanager.v1.SecretManagerService.service;
}
