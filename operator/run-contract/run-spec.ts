import { readFile } from 'node:fs/promises';
import { SecretValue } from '../../core/secrets/secret-value.ts';
import type { ConnectorTimeouts, Credentials } from '../../connectors/sdk/connector.ts';

export const RUN_ACTIONS = ['enable', 'disable', 'verify', 'rotate'] as const;
export type RunAction = (typeof RUN_ACTIONS)[number];

/** Where the runner leaves its results: a directory (tests, local runs) or the run's result Secret (Jobs). */
export interface FileSinkSpec {
  type: 'file';
  dir: string;
}
export interface KubernetesSinkSpec {
  type: 'kubernetes';
  namespace: string;
  secretName: string;
}
export type SinkSpec = FileSinkSpec | KubernetesSinkSpec;

/** Where the run gets sign-in codes from the store's seeds (it never holds one): public data only. */
export interface CodeServiceSpec {
  url: string;
  /** PEM CA bundle to trust for `url`. */
  caBundle?: string;
  /** The projected ServiceAccount token for the code service's audience. */
  tokenFile: string;
  /** This run's Job. */
  namespace: string;
  job: string;
}

/**
 * What one Job run does, as JSON in a file the Job mounts. It holds no secrets: credentials come
 * from mounted Secret files named here, so nothing secret appears in the Job or Pod spec.
 */
export interface RunSpec {
  connector: string;
  /** Optional override of the connector's default login URL; checked against its allowed hosts. */
  loginUrl?: string;
  credentials: { usernameFile: string; passwordFile: string };
  sink: SinkSpec;
  action: RunAction;
  /** Without it the run signs in with no stored seed: the operator names none when the store held none. */
  codeService?: CodeServiceSpec;
  /** Failure screenshots (secrets masked) and traces; none when absent. */
  artifactsDir?: string;
  timeouts?: Partial<ConnectorTimeouts>;
  /** PEM certificates of extra CAs the run's browser trusts (spec.account.caBundleRef); public data, checked by the operator. */
  caBundle?: string;
}

export class InvalidRunSpecError extends Error {
  readonly reason = 'InvalidRunSpec';

  constructor(problem: string) {
    super(`Invalid run spec: ${problem}. Fix the run spec the Job mounts.`);
    this.name = 'InvalidRunSpecError';
  }
}

export async function readRunSpec(path: string): Promise<RunSpec> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (e: unknown) {
    throw new InvalidRunSpecError(`cannot read ${path} as JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  return validateRunSpec(parsed);
}

export function validateRunSpec(value: unknown): RunSpec {
  if (!isObject(value)) throw new InvalidRunSpecError('expected a JSON object');
  requireString(value, 'connector');
  if (!RUN_ACTIONS.includes(value.action as RunAction)) throw new InvalidRunSpecError(`action must be one of ${RUN_ACTIONS.join(', ')}`);
  if (value.loginUrl !== undefined) requireString(value, 'loginUrl');
  const credentials = value.credentials;
  if (!isObject(credentials)) throw new InvalidRunSpecError('credentials must name usernameFile and passwordFile');
  requireString(credentials, 'usernameFile');
  requireString(credentials, 'passwordFile');
  validateSink(value.sink);
  if (value.codeService !== undefined) validateCodeService(value.codeService);
  if (value.artifactsDir !== undefined) requireString(value, 'artifactsDir');
  if (value.caBundle !== undefined) requireString(value, 'caBundle');
  return value as unknown as RunSpec;
}

function validateSink(sink: unknown): void {
  if (!isObject(sink)) throw new InvalidRunSpecError('sink must be an object with a type');
  if (sink.type === 'file') return requireString(sink, 'dir');
  if (sink.type !== 'kubernetes') throw new InvalidRunSpecError('sink.type must be "file" or "kubernetes"');
  requireString(sink, 'namespace');
  requireString(sink, 'secretName');
}

function validateCodeService(spec: unknown): void {
  if (!isObject(spec)) throw new InvalidRunSpecError('codeService must be an object');
  for (const key of ['url', 'tokenFile', 'namespace', 'job']) requireString(spec, key);
  if (!String(spec.url).startsWith('https://')) throw new InvalidRunSpecError('codeService.url must be an https URL');
  if (spec.caBundle !== undefined) requireString(spec, 'caBundle');
}

/** Secret files end with a newline when written by hand or by `kubectl create secret --from-file`. */
export async function readCredentials(spec: RunSpec): Promise<Credentials> {
  const username = (await readFile(spec.credentials.usernameFile, 'utf8')).replace(/\r?\n$/, '');
  const password = (await readFile(spec.credentials.passwordFile, 'utf8')).replace(/\r?\n$/, '');
  return { username, password: new SecretValue(password) };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requireString(object: Record<string, unknown>, key: string): void {
  if (typeof object[key] !== 'string' || object[key] === '') throw new InvalidRunSpecError(`${key} must be a non-empty string`);
}
