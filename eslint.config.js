import tseslint from 'typescript-eslint';

/** An import of one of these folders, from any depth (`../../operator/x.ts`; `../automation/x.ts` inside operator/). */
const folder = (...names) => `^(\\.\\./)+(${names.join('|')})/`;
const noImports = (...patterns) => ['error', { patterns: patterns.map(([regex, message]) => ({ regex, message })) }];

const NOT_OPERATOR = [folder('operator'), 'Connectors never import the operator (docs/architecture.md, "Layers").'];
const CORE_DEPENDS_ON_NOTHING = [
  folder('operator', 'connectors', 'test', 'bench', 'hack'),
  'core/ depends on nothing of ours (docs/architecture.md, "Layers").',
];
const DEMO_APP_USES_ONLY_CORE = [
  folder('operator', 'connectors', 'bench', 'hack'),
  'The demo app imports only core/ of the product (docs/development.md, "Where tests live").',
];
const ONLY_ROOT_IMPORTS_CONNECTORS = [
  folder('connectors'),
  'Only the runner and the composition root (main.ts, manager.ts, config.ts) import connectors.',
];

// Small functions, shallow nesting (docs/development.md, "Code style"); layers (docs/architecture.md, "Layers").
export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'charts/**', '**/*.generated.ts'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      complexity: ['error', 12],
      'max-depth': ['error', 3],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }],
      'max-lines': ['error', { max: 400, skipBlankLines: true, skipComments: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: { 'max-lines-per-function': 'off', '@typescript-eslint/no-explicit-any': 'off' },
  },
  // Layers: each block names everything its files may not import (a later block replaces an earlier one's list).
  { files: ['core/**/*.ts'], rules: { 'no-restricted-imports': noImports(CORE_DEPENDS_ON_NOTHING) } },
  {
    files: ['core/**/*.test.ts'],
    rules: {
      'no-restricted-imports': noImports([
        folder('operator', 'connectors', 'bench', 'hack'),
        CORE_DEPENDS_ON_NOTHING[1],
      ]),
    },
  },
  { files: ['connectors/**/*.ts'], rules: { 'no-restricted-imports': noImports(NOT_OPERATOR) } },
  {
    files: ['connectors/*/*.ts'],
    ignores: ['connectors/sdk/**', '**/*.test.ts'],
    rules: {
      'no-restricted-imports': noImports(NOT_OPERATOR, [
        folder('core'),
        'A connector takes core/ from the SDK: connectors/sdk/core.ts.',
      ]),
    },
  },
  {
    // A connector's tests, and the kit they use, run it through the runner, which hosts connectors.
    files: ['connectors/**/*.test.ts', 'connectors/sdk/testing/**/*.ts'],
    rules: {
      'no-restricted-imports': noImports([
        `${folder('operator')}(?!runner/|run-contract/)`,
        'Connector tests may run the runner (operator/runner/, operator/run-contract/), and import nothing else of the operator.',
      ]),
    },
  },
  // A test of the whole operator on the cluster with a real allauth site: it reads what the operator stored.
  { files: ['connectors/*/through-operator.test.ts'], rules: { 'no-restricted-imports': 'off' } },
  // The demo app stands in for a SaaS app: it shares core/ with the product and nothing else.
  { files: ['test/apps/demo/**/*.ts'], rules: { 'no-restricted-imports': noImports(DEMO_APP_USES_ONLY_CORE) } },
  {
    files: ['operator/**/*.ts'],
    ignores: ['operator/runner/**', 'operator/main.ts', 'operator/manager.ts', 'operator/config.ts'],
    rules: { 'no-restricted-imports': noImports(ONLY_ROOT_IMPORTS_CONNECTORS) },
  },
  {
    files: ['operator/stores/**/*.ts'],
    rules: {
      'no-restricted-imports': noImports(ONLY_ROOT_IMPORTS_CONNECTORS, [
        folder('automation'),
        'Stores are used by automation/, never the other way round.',
      ]),
    },
  },
  {
    files: ['operator/run-contract/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': noImports(ONLY_ROOT_IMPORTS_CONNECTORS, [
        folder('runner', 'automation', 'controller'),
        'The run contract is what the controller and the runner both import; it imports neither.',
      ]),
    },
  },
);
