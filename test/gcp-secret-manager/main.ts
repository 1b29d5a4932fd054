import { SecretManagerTestServer } from './server.ts';

// Development entry point: `node test/gcp-secret-manager/main.ts [port]` serves until Ctrl-C.
const port = Number(process.argv[2] ?? 0);
const server = await SecretManagerTestServer.start({ port });
process.stdout.write(`Secret Manager test server (in-memory, plain-text gRPC) listening on ${server.address}\n`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void server.stop().then(() => process.exit(0));
  });
}
