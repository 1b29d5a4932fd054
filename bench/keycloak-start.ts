// Measures how long the local Keycloak test app takes to answer after `kc.sh start-dev`.
// Usage: node bench/keycloak-start.ts [runs]   (prints one JSON object)
import { startKeycloak } from '../test/apps/keycloak/server.ts';

const runs = Number(process.argv[2] ?? 1);
const startupMs: number[] = [];
let version = '';
for (let i = 0; i < runs; i++) {
  const keycloak = await startKeycloak();
  version = keycloak.version;
  startupMs.push(keycloak.startupMs);
  await keycloak.stop();
}
console.log(JSON.stringify({ app: 'keycloak', version, runs, startupMs }));
