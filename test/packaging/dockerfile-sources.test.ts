import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { readDockerfile } from './dockerfile.ts';

/** The source folders the image's programs are built from: core/ and what imports it (docs/architecture.md, "Layers"). */
const PRODUCT_FOLDERS = ['core', 'operator', 'connectors'];
const REPO = new URL('../..', import.meta.url).pathname;

describe("the Dockerfile's sources", () => {
  it('builds every product folder: in the context, copied to the build stage, and its dist/ in the image', async () => {
    const stages = await readDockerfile(`${REPO}Dockerfile`);
    const copies = (stage: (typeof stages)[number]) =>
      stage.instructions.filter((i) => i.keyword === 'COPY').map((i) => i.args.split(/\s+/)[0]);
    const allowed = (await readFile(`${REPO}.dockerignore`, 'utf8')).split('\n').filter((l) => l.startsWith('!'));
    const build = JSON.parse(await readFile(`${REPO}tsconfig.build.json`, 'utf8')) as { include: string[] };

    for (const folder of PRODUCT_FOLDERS) {
      expect(build.include, 'tsconfig.build.json').toContain(folder);
      expect(allowed, '.dockerignore').toContain(`!${folder}/`);
      expect(copies(stages.find((s) => s.name === 'build')!), 'the build stage').toContain(folder);
      expect(copies(stages.at(-1)!), 'the final stage').toContain(`/src/dist/${folder}`);
    }
  });
});
