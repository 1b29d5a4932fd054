import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO } from '../support/cluster.ts';
import { kubectlOk } from '../support/kubectl.ts';
import { runTool, type CommandResult } from './tools.ts';

type Schema = Record<string, unknown>;
interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

/** Types the OpenAPI document calls strings but whose YAML may be a number. */
const LOOSE_TYPES: Record<string, Schema> = {
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': { oneOf: [{ type: 'string' }, { type: 'integer' }] },
  'io.k8s.apimachinery.pkg.api.resource.Quantity': { oneOf: [{ type: 'string' }, { type: 'number' }] },
};

/** kubeconform's file name for a kind: `{{ .ResourceKind }}{{ .KindSuffix }}.json` (pkg/registry). */
export function schemaFileName({ group, version, kind }: GroupVersionKind): string {
  const groupPart = group ? `-${group.split('.')[0]!.toLowerCase()}` : '';
  return `${kind.toLowerCase()}${groupPart}-${version.toLowerCase()}.json`;
}

/** Strict like kubeconform's own schemas: an object with listed properties accepts no others. */
function strict(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strict);
  if (!value || typeof value !== 'object') return value;
  const schema = Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, k === 'enum' || k === 'default' || k === 'example' ? v : strict(v)]),
  ) as Schema;
  if (schema['x-kubernetes-int-or-string'] === true)
    return { ...LOOSE_TYPES['io.k8s.apimachinery.pkg.util.intstr.IntOrString'], description: schema.description };
  if (
    schema.properties &&
    schema.additionalProperties === undefined &&
    schema['x-kubernetes-preserve-unknown-fields'] !== true
  ) {
    schema.additionalProperties = false;
  }
  if (schema.nullable === true && typeof schema.type === 'string') schema.type = [schema.type, 'null'];
  return schema;
}

function referencedDefinitions(start: string, definitions: Record<string, Schema>): Set<string> {
  const seen = new Set<string>();
  const pending = [start];
  while (pending.length) {
    const name = pending.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const refs = JSON.stringify(definitions[name] ?? {}).matchAll(/"\$ref":"#\/definitions\/([^"]+)"/g);
    for (const [, ref] of refs) pending.push(ref!);
  }
  return seen;
}

/**
 * One schema file per kind the running kube-apiserver serves, from its own /openapi/v2: the
 * kind's definition as the root, with the definitions it references alongside.
 */
export async function writeBuiltInSchemas(kubeconfig: string, dir: string): Promise<number> {
  const swagger = JSON.parse(await kubectlOk(kubeconfig, ['get', '--raw', '/openapi/v2'])) as {
    definitions: Record<string, Schema>;
  };
  const definitions = Object.fromEntries(
    Object.entries(swagger.definitions).map(([name, schema]) => [
      name,
      LOOSE_TYPES[name] ?? (strict(schema) as Schema),
    ]),
  );
  let written = 0;
  for (const [name, schema] of Object.entries(swagger.definitions)) {
    const kinds = (schema['x-kubernetes-group-version-kind'] ?? []) as GroupVersionKind[];
    if (kinds.length !== 1) continue; // DeleteOptions, WatchEvent: not objects one applies
    const reachable = referencedDefinitions(name, definitions);
    const file = {
      ...definitions[name],
      definitions: Object.fromEntries([...reachable].map((n) => [n, definitions[n]])),
    };
    await writeFile(join(dir, schemaFileName(kinds[0]!)), JSON.stringify(file));
    written++;
  }
  return written;
}

/** One schema file per served version of each CRD under config/crd/bases, from its openAPIV3Schema. */
export async function writeCrdSchemas(dir: string): Promise<string[]> {
  const bases = `${REPO}/config/crd/bases`;
  const written: string[] = [];
  for (const file of (await readdir(bases)).filter((f) => f.endsWith('.yaml'))) {
    const crd = parse(await readFile(join(bases, file), 'utf8'));
    for (const version of crd.spec.versions) {
      const name = schemaFileName({ group: crd.spec.group, version: version.name, kind: crd.spec.names.kind });
      const schema = strict(version.schema.openAPIV3Schema) as Schema;
      await writeFile(join(dir, name), JSON.stringify(schema));
      written.push(name);
    }
  }
  return written;
}

export async function prepareSchemaDir(kubeconfig: string, dir: string): Promise<{ builtIn: number; crds: string[] }> {
  await mkdir(dir, { recursive: true });
  return { builtIn: await writeBuiltInSchemas(kubeconfig, dir), crds: await writeCrdSchemas(dir) };
}

/**
 * kubeconform -strict against the schema directory only: nothing is downloaded, and a kind
 * without a schema fails (except the kinds listed in skip, which the caller checks another way).
 */
export function kubeconform(
  schemaDir: string,
  manifests: string,
  skip: readonly string[] = [],
): Promise<CommandResult> {
  return runTool(
    'kubeconform',
    [
      '-strict',
      '-summary',
      '-output',
      'text',
      '-schema-location',
      `${schemaDir}/{{ .ResourceKind }}{{ .KindSuffix }}.json`,
      ...(skip.length ? ['-skip', skip.join(',')] : []),
      '-',
    ],
    { stdin: manifests },
  );
}
