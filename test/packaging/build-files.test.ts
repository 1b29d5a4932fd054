import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { readDockerfile } from './dockerfile.ts';

/** What the image runs: only these folders belong in dist/ (docs/development.md, "Where tests live"). */
const PRODUCT_FOLDERS = ['core', 'operator', 'connectors'];
const REPO = new URL('../..', import.meta.url).pathname;

/** Every file of ours that `npm run build` compiles: what tsconfig.build.json includes, and everything those import. */
function builtFiles(): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(
    `${REPO}tsconfig.build.json`,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  )!;
  if (config.errors.length)
    throw new Error(
      `tsconfig.build.json: ${config.errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('; ')}`,
    );
  // Packages are not compiled: with node_modules unseen, only our own imports resolve, and quickly.
  const options = { ...config.options, noLib: true, types: [] };
  const host = ts.createCompilerHost(options);
  const ours = (path: string) => !path.includes('/node_modules/');
  const { fileExists, directoryExists } = host;
  host.fileExists = (path) => ours(path) && fileExists(path);
  host.directoryExists = (path) => ours(path) && (directoryExists?.(path) ?? true);
  const program = ts.createProgram({ rootNames: config.fileNames, options, host });
  return program
    .getSourceFiles()
    .map((file) => relative(REPO, file.fileName))
    .sort();
}

function importsVitest(path: string): boolean {
  const { importedFiles } = ts.preProcessFile(readFileSync(`${REPO}${path}`, 'utf8'), true, true);
  return importedFiles.some(({ fileName }) => fileName === 'vitest' || fileName.startsWith('vitest/'));
}

describe('what the build compiles into dist/', () => {
  let files: string[] = [];
  beforeAll(() => {
    files = builtFiles();
  });

  it('compiles the product folders', () => {
    for (const folder of PRODUCT_FOLDERS)
      expect(
        files.some((path) => path.startsWith(`${folder}/`)),
        folder,
      ).toBe(true);
  });

  it('compiles nothing outside core/, operator/ and connectors/', () => {
    expect(files.filter((path) => !PRODUCT_FOLDERS.some((folder) => path.startsWith(`${folder}/`)))).toEqual([]);
  });

  it('compiles no test file and nothing that imports vitest', () => {
    expect(files.filter((path) => path.endsWith('.test.ts'))).toEqual([]);
    expect(files.filter(importsVitest)).toEqual([]);
    // The connector test kit lives in the SDK for connector authors, but is tests only.
    expect(files.filter((path) => path.startsWith('connectors/sdk/testing/'))).toEqual([]);
  });
});

describe('what the image takes from dist/', () => {
  it('copies dist/core, dist/operator and dist/connectors from the build stage, and nothing else of it', async () => {
    const final = (await readDockerfile(`${REPO}Dockerfile`)).at(-1)!;
    const fromBuild = final.instructions
      .filter((i) => i.keyword === 'COPY' && i.flags.from === 'build')
      .map((i) => i.args.split(/\s+/)[0]);

    expect(fromBuild.sort()).toEqual(PRODUCT_FOLDERS.map((folder) => `/src/dist/${folder}`).sort());
  });
});
