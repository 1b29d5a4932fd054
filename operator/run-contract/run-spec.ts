import { readFile } from 'node:fs/promises';

/**
 * The run contract's version. The controller writes it into every run spec; a runner refuses a spec of a version it
 * does not know, so an operator and a runner image of different releases fail with InvalidRunSpec, not halfway.
 */
export const RUN_CONTRACT_VERSION = 1;

/**
 * Everything a runner can do. `adopt` signs in with the store's pending seed only (one the operator took from
 * spec.mfa.adoptFrom) and reports whether the app took it; it changes nothing on the app. `regenerate` signs in with a
 * stored seed and has the app issue a new set of recovery codes.
 */
export const RUN_ACTIONS = ['enable', 'disable', 'verify', 'rotate', 'adopt', 'regenerate'] as const;
export type RunAction = (typeof RUN_ACTIONS)[number];

/**
 * The actions the controller starts Jobs for: all of them (`verify` for spec.mfa.verify, `adopt` for spec.mfa.adoptFrom,
 * `regenerate` for the regenerate-recovery-codes annotation and spec.mfa.recoveryCodes.regenerate).
 */
export const JOB_ACTIONS = [
  'enable',
  'disable',
  'verify',
  'rotate',
  'adopt',
  'regenerate',
] as const satisfies readonly RunAction[];
export type JobAction = (typeof JOB_ACTIONS)[number];

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

/** Browser timeouts in milliseconds; each one absent takes the runner's default. */
export interface RunTimeouts {
  /** One navigation (goto, a submit that loads a page). */
  navigationMs: number;
  /** Waiting for one element to appear or become actionable. */
  actionMs: number;
}

/**
 * What one Job run does, as JSON in a file the Job mounts. It holds no secrets: credentials come
 * from mounted Secret files named here, so nothing secret appears in the Job or Pod spec.
 */
export interface RunSpec {
  /** RUN_CONTRACT_VERSION of the writer; absent in a spec written by hand, which means the current one. */
  contractVersion?: number;
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
  timeouts?: Partial<RunTimeouts>;
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

/** Checks the shape at the runner's entry; each error names the field by its path in the spec (`sink.secretName`). */
export function validateRunSpec(value: unknown): RunSpec {
  const spec = object(value, 'the run spec');
  if (spec.contractVersion !== undefined && spec.contractVersion !== RUN_CONTRACT_VERSION) {
    throw new InvalidRunSpecError(
      `contractVersion ${JSON.stringify(spec.contractVersion)} is not one this runner knows (${RUN_CONTRACT_VERSION}); ` +
        'run the runner image of the same release as the operator',
    );
  }
  text(spec, 'connector');
  if (!RUN_ACTIONS.includes(spec.action as RunAction))
    throw new InvalidRunSpecError(`action must be one of ${RUN_ACTIONS.join(', ')}`);
  optionalText(spec, 'loginUrl');
  const credentials = object(spec.credentials, 'credentials');
  text(credentials, 'usernameFile', 'credentials.');
  text(credentials, 'passwordFile', 'credentials.');
  validateSink(spec.sink);
  if (spec.codeService !== undefined) validateCodeService(spec.codeService);
  optionalText(spec, 'artifactsDir');
  if (spec.timeouts !== undefined) validateTimeouts(spec.timeouts);
  optionalText(spec, 'caBundle');
  return spec as unknown as RunSpec;
}

function validateSink(value: unknown): void {
  const sink = object(value, 'sink');
  if (sink.type === 'file') return text(sink, 'dir', 'sink.');
  if (sink.type !== 'kubernetes') throw new InvalidRunSpecError('sink.type must be "file" or "kubernetes"');
  text(sink, 'namespace', 'sink.');
  text(sink, 'secretName', 'sink.');
}

function validateCodeService(value: unknown): void {
  const spec = object(value, 'codeService');
  for (const key of ['url', 'tokenFile', 'namespace', 'job']) text(spec, key, 'codeService.');
  if (!String(spec.url).startsWith('https://')) throw new InvalidRunSpecError('codeService.url must be an https URL');
  optionalText(spec, 'caBundle', 'codeService.');
}

function validateTimeouts(value: unknown): void {
  const timeouts = object(value, 'timeouts');
  for (const key of ['navigationMs', 'actionMs'] as const satisfies readonly (keyof RunTimeouts)[]) {
    const ms = timeouts[key];
    if (ms !== undefined && !(typeof ms === 'number' && Number.isInteger(ms) && ms > 0)) {
      throw new InvalidRunSpecError(`timeouts.${key} must be a whole number of milliseconds above 0`);
    }
  }
}

function object(value: unknown, name: string): Record<string, unknown> {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  throw new InvalidRunSpecError(`${name} must be a JSON object`);
}

function text(object: Record<string, unknown>, key: string, path = ''): void {
  if (typeof object[key] !== 'string' || object[key] === '')
    throw new InvalidRunSpecError(`${path}${key} must be a non-empty string`);
}

function optionalText(object: Record<string, unknown>, key: string, path = ''): void {
  if (object[key] !== undefined) text(object, key, path);
}
