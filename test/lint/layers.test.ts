import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/** The layer rule of eslint.config.js (docs/architecture.md, "Layers"), on imports a file at `path` could make. */
const eslint = new ESLint({ cwd: new URL('../..', import.meta.url).pathname });
// Spelled in parts: vitest.config.ts sorts a file that names the test apps' folder out of the unit project.
const DEMO_APP = ['test', 'apps', 'demo'].join('/');

async function refusals(path: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${source}\nexport {};\n`, { filePath: path });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('the layers, as the linter keeps them', () => {
  it('core/ imports nothing of ours, in any form of import', async () => {
    for (const source of [
      "import { x } from '../../operator/runner/run.ts';",
      "import type { Connector } from '../../connectors/sdk/connector.ts';",
      "export { connectors } from '../../connectors/index.ts';",
      "import '../../bench/enroll.ts';",
    ])
      expect(await refusals('core/totp/new.ts', source), source).toEqual([
        expect.stringContaining('core/ depends on nothing of ours'),
      ]);
    expect(await refusals('core/totp/new.ts', "import { secret } from '../secrets/secret-value.ts';")).toEqual([]);
  });

  it('connectors never import the operator, and an app connector takes core/ from the SDK', async () => {
    expect(
      await refusals(
        'connectors/sdk/new.ts',
        "import type { RunSpec } from '../../operator/run-contract/run-spec.ts';",
      ),
    ).toEqual([expect.stringContaining('Connectors never import the operator')]);
    expect(
      await refusals('connectors/keycloak/new.ts', "import { SecretValue } from '../../core/secrets/secret-value.ts';"),
    ).toEqual([expect.stringContaining('connectors/sdk/core.ts')]);
    expect(await refusals('connectors/keycloak/new.ts', "import { SecretValue } from '../sdk/core.ts';")).toEqual([]);
    expect(
      await refusals('connectors/sdk/new.ts', "import { SecretValue } from '../../core/secrets/secret-value.ts';"),
    ).toEqual([]);
  });

  it('a connector test may run the runner and import nothing else of the operator', async () => {
    expect(
      await refusals('connectors/keycloak/new.test.ts', "import { performRun } from '../../operator/runner/run.ts';"),
    ).toEqual([]);
    expect(
      await refusals(
        'connectors/keycloak/new.test.ts',
        "import { encodeSeed } from '../../operator/stores/material.ts';",
      ),
    ).toEqual([expect.stringContaining('may run the runner')]);
  });

  it('the demo app imports core/ and nothing else of the product', async () => {
    for (const source of [
      "import { encodeSeed } from '../../../operator/stores/material.ts';",
      "import type { Connector } from '../../../connectors/sdk/connector.ts';",
      "import { SecretValue } from '../../../../connectors/sdk/core.ts';",
    ])
      expect(await refusals(`${DEMO_APP}/routes/new.ts`, source), source).toEqual([
        expect.stringContaining('The demo app imports only core/'),
      ]);
    expect(
      await refusals(`${DEMO_APP}/new.ts`, "import { SecretValue } from '../../../core/secrets/secret-value.ts';"),
    ).toEqual([]);
  });

  it('in the operator only the runner and the composition root import connectors', async () => {
    const registry = "import { connectors } from '../../connectors/index.ts';";
    expect(await refusals('operator/automation/new.ts', registry)).toEqual([
      expect.stringContaining('Only the runner'),
    ]);
    expect(
      await refusals('operator/codes/new.ts', "import type { SecondFactor } from '../../connectors/sdk/connector.ts';"),
    ).toEqual([expect.stringContaining('Only the runner')]);
    expect(await refusals('operator/runner/new.ts', registry)).toEqual([]);
    expect(await refusals('operator/manager.ts', "import { connectors } from '../connectors/index.ts';")).toEqual([]);
  });

  it('stores never import automation', async () => {
    expect(
      await refusals('operator/stores/gcp/new.ts', "import { harvest } from '../../automation/harvest.ts';"),
    ).toEqual([expect.stringContaining('never the other way round')]);
    expect(await refusals('operator/automation/new.ts', "import { sameSeed } from '../stores/material.ts';")).toEqual(
      [],
    );
  });

  it('the run contract imports neither side of it', async () => {
    for (const source of [
      "import { performRun } from '../runner/run.ts';",
      "import type { ObservedRun } from '../automation/run-observation.ts';",
    ]) {
      expect(await refusals('operator/run-contract/new.ts', source), source).toEqual([
        expect.stringContaining('imports neither'),
      ]);
    }
    expect(
      await refusals('operator/run-contract/new.ts', "import { encodeSeed } from '../stores/material.ts';"),
    ).toEqual([]);
    expect(
      await refusals('operator/runner/new.ts', "import { RESULT_KEYS } from '../run-contract/result-secret.ts';"),
    ).toEqual([]);
  });
});
