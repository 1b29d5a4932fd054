import { parseAllDocuments } from 'yaml';
import { REPO } from '../support/cluster.ts';
import { runTool, runToolOk } from './tools.ts';

export const CHART = `${REPO}/charts/mfa-operator`;
export const RELEASE = 'mfa-operator';
export const NAMESPACE = 'mfa-operator-system';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export interface RenderOptions {
  valuesFiles?: readonly string[];
  set?: readonly string[];
  /** Extra API versions the pretend cluster serves, e.g. monitoring.coreos.com/v1. */
  apiVersions?: readonly string[];
  namespace?: string;
}

function templateArgs(options: RenderOptions): string[] {
  return [
    'template',
    RELEASE,
    CHART,
    '--namespace',
    options.namespace ?? NAMESPACE,
    ...(options.valuesFiles ?? []).flatMap((f) => ['--values', f]),
    ...(options.set ?? []).flatMap((s) => ['--set', s]),
    ...(options.apiVersions ?? []).flatMap((v) => ['--api-versions', v]),
  ];
}

/** `helm template` as a user runs it; the YAML stream. */
export function renderChart(options: RenderOptions = {}): Promise<string> {
  return runToolOk('helm', templateArgs(options));
}

/** `helm template` that may fail, for the values the chart must refuse. */
export function tryRenderChart(options: RenderOptions = {}) {
  return runTool('helm', templateArgs(options));
}

export function renderKustomize(dir: string): Promise<string> {
  return runToolOk('kubectl', ['kustomize', dir]);
}

export function objectsOf(yamlStream: string): KubeObject[] {
  return parseAllDocuments(yamlStream)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null);
}

export const ofKind = (objects: readonly KubeObject[], kind: string) => objects.filter((o) => o.kind === kind);
export const named = (objects: readonly KubeObject[], kind: string, name: string) => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found)
    throw new Error(`no ${kind} ${name} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found;
};

/** The part of the controller Deployment's spec the chart tests read. */
export interface DeploymentSpec {
  template: {
    spec: { containers: Array<{ args: string[]; command: string[]; env: Array<{ name: string; value?: string }> }> };
  };
}
