import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import type { TotpAlgorithm, TotpDigits, TotpSeedMetadata } from '../../core/totp/totp-seed.ts';
import { SecretValue } from '../../core/secrets/secret-value.ts';
import { RunnerError } from './runner-errors.ts';
import type { CodeServiceSpec } from '../run-contract/run-spec.ts';
import type { SecretScrubber } from './secret-scrubber.ts';
import type { SeedSlot } from '../stores/seed-slots.ts';

/** One recovery code the service claimed for this run, and its position. */
export interface RunRecoveryCode {
  code: SecretValue<string>;
  index: number;
}

/** Refusals of a recovery code that a retry cannot change: each retry would only burn more codes. */
const FINAL_RECOVERY_REFUSALS = new Set([
  'RecoveryCodeAlreadyUsed',
  'RecoveryCodesUsedUp',
  'NoRecoveryCodes',
  'RunCodeBudgetExhausted',
  'Forbidden',
  'BadRequest',
]);

export interface SlotCode {
  code: SecretValue<string>;
  metadata: TotpSeedMetadata;
}

/** A login code waits at most --code-service-max-login-wait (35 s by default) for an unused window. */
const REQUEST_TIMEOUT_MS = 60_000;
/** The longest `Retry-After` of a NextWindowTooFar answer the run waits out (two TOTP windows). */
const MAX_WINDOW_RETRY_SECONDS = 60;

/**
 * The run's side of the code service's run endpoint: which store slots hold a seed, and one sign-in code at a time
 * from a slot, authenticated with the pod's projected ServiceAccount token (re-read each time: kubelet rotates it).
 * The run never holds a stored seed. Any failure to get an answer is retryable: nothing on the app has changed by then.
 */
export class RunCodeClient {
  readonly #spec: CodeServiceSpec;
  readonly #scrubber: SecretScrubber;

  constructor(spec: CodeServiceSpec, scrubber: SecretScrubber) {
    this.#spec = spec;
    this.#scrubber = scrubber;
  }

  async slots(): Promise<SeedSlot[]> {
    const body = await this.#get('slots');
    const slots = Array.isArray(body.slots) ? body.slots : [];
    return (['pending', 'active'] as const).filter((slot) => slots.includes(slot));
  }

  async code(slot: SeedSlot): Promise<SlotCode> {
    const body = await this.#get(`code?slot=${slot}`);
    if (typeof body.code !== 'string') throw unavailable('answered a code request without a code');
    const code = new SecretValue(body.code);
    this.#scrubber.add(code);
    return {
      code,
      metadata: {
        algorithm: body.algorithm as TotpAlgorithm,
        digits: body.digits as TotpDigits,
        period: body.period as number,
      },
    };
  }

  /**
   * One stored recovery code, claimed for this run: the position the app names (`index`, from 0), else the first
   * unused. A position handed out before, or none left, fails the run for good (`RecoveryCodeUnavailable`).
   */
  async recoveryCode(index: number | undefined): Promise<RunRecoveryCode> {
    const body = await this.#ask('POST', `recovery-code${index === undefined ? '' : `?index=${index}`}`);
    if (typeof body.code !== 'string' || typeof body.index !== 'number')
      throw unavailable('answered a recovery code request without a code');
    const code = new SecretValue(body.code);
    this.#scrubber.add(code);
    return { code, index: body.index };
  }

  #get(path: string): Promise<Record<string, unknown>> {
    return this.#ask('GET', path);
  }

  async #token(): Promise<string> {
    let token: string;
    try {
      token = (await readFile(this.#spec.tokenFile, 'utf8')).trim();
    } catch (e: unknown) {
      throw unavailable(
        `could not be asked: the token file ${this.#spec.tokenFile} is unreadable (${e instanceof Error && 'code' in e ? String(e.code) : 'error'})`,
      );
    }
    this.#scrubber.add(new SecretValue(token));
    return token;
  }

  /** GET for sign-in codes and slots; POST for a recovery code (each answer uses one up; only a refusal is repeated). */
  async #ask(method: 'GET' | 'POST', path: string): Promise<Record<string, unknown>> {
    const { url, namespace, job } = this.#spec;
    const token = await this.#token();
    const target = `${url}/v1/namespaces/${encodeURIComponent(namespace)}/runs/${encodeURIComponent(job)}/${path}`;
    let { status, body, retryAfter } = await askJson(method, target, token, this.#spec.caBundle);
    // Every window up to the service's wait limit went to other automated logins (another run, `kubectl mfa code
    // --fresh`): the answer says when one is free, so wait for it once rather than fail the run.
    if (
      status === 503 &&
      body.reason === 'NextWindowTooFar' &&
      retryAfter !== undefined &&
      retryAfter <= MAX_WINDOW_RETRY_SECONDS
    ) {
      await new Promise((resolve) => setTimeout(resolve, retryAfter! * 1000));
      ({ status, body, retryAfter } = await askJson(method, target, token, this.#spec.caBundle));
    }
    if (status === 200) return body;
    // The service's reason and message name no secret (operator/codes/code-errors.ts).
    const reason = typeof body.reason === 'string' ? body.reason : `HTTP ${status}`;
    const message = typeof body.message === 'string' ? this.#scrubber.scrub(body.message).slice(0, 300) : '';
    if (method === 'POST' && FINAL_RECOVERY_REFUSALS.has(reason)) {
      throw new RecoveryCodeRefused(
        reason,
        `The operator's code service refused this run a recovery code (${reason}): ${message} The run will not retry.`,
      );
    }
    throw unavailable(`refused (${reason}): ${message}`);
  }
}

/** The code service's final refusal of a recovery code; `serviceReason` says which (NoRecoveryCodes, ...). */
export class RecoveryCodeRefused extends RunnerError {
  readonly serviceReason: string;

  constructor(serviceReason: string, message: string) {
    super('RecoveryCodeUnavailable', message);
    this.serviceReason = serviceReason;
  }
}

function unavailable(why: string): RunnerError {
  return new RunnerError(
    'CodeServiceUnavailable',
    `The operator's code service, which gives a run its sign-in codes, ${why}. Nothing was changed on the app; the run will retry.`,
    true,
  );
}

interface JsonAnswer {
  status: number;
  body: Record<string, unknown>;
  retryAfter?: number;
}

function askJson(method: 'GET' | 'POST', target: string, token: string, ca: string | undefined): Promise<JsonAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      {
        method,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
        timeout: REQUEST_TIMEOUT_MS,
        ...(ca ? { ca } : {}),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          let body: Record<string, unknown> = {};
          try {
            body = JSON.parse(text) as Record<string, unknown>;
          } catch {
            // A proxy's HTML error page: the status says enough.
          }
          const retryAfter = Number(res.headers['retry-after']);
          resolve({
            status: res.statusCode ?? 0,
            body,
            ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfter } : {}),
          });
        });
        res.on('error', () => reject(unavailable('broke off its answer')));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    // The error may name the address; it is not secret, but its code says enough.
    req.on('error', (e: NodeJS.ErrnoException) =>
      reject(unavailable(`could not be reached at ${new URL(target).origin} (${e.code ?? e.message})`)),
    );
    req.end();
  });
}
