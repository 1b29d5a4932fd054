import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SecretValue } from '../../core/secrets/secret-value.ts';
import type { TotpAlgorithm, TotpDigits, TotpSeed } from '../../core/totp/totp-seed.ts';
import type { ResultSeedState } from '../run-contract/result-secret.ts';
import type { RecordedSeed, ResultSink } from './result-sink.ts';
import type { SeedSlot } from '../stores/seed-slots.ts';

const SEED_FILE = 'seed.json';
const RECOVERY_CODES_FILE = 'recovery-codes.json';
const ADOPTED_SLOT_FILE = 'adopted-slot';

interface SeedRecord {
  state: ResultSeedState;
  secret: string;
  algorithm: TotpAlgorithm;
  digits: TotpDigits;
  period: number;
  issuer?: string;
  label?: string;
  updatedAt: string;
}

/**
 * A sink in a local directory (tests, `mfa-operator run` by hand). Each
 * write goes to a temporary file that is fsynced and renamed over the old one, and the directory
 * is fsynced, so a crash leaves the old or the new file, never a torn one. Files are mode 0600.
 */
export class FileResultSink implements ResultSink {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** For tests and the controller's hand-off: the seed this run captured, if any. */
  async readSeed(): Promise<RecordedSeed | undefined> {
    const record = await this.#readSeedRecord(SEED_FILE);
    return record ? { seed: seedOf(record), state: record.state } : undefined;
  }

  /** For tests and the controller's hand-off: the store slot the run adopted, if any. */
  async readAdoptedSlot(): Promise<SeedSlot | undefined> {
    const text = await readIfExists(join(this.#dir, ADOPTED_SLOT_FILE));
    return text === 'pending' || text === 'active' ? text : undefined;
  }

  async writePendingSeed(seed: TotpSeed): Promise<void> {
    await this.#writeAtomically(SEED_FILE, JSON.stringify(recordOf(seed, 'pending')));
  }

  async markAdopted(slot: SeedSlot): Promise<void> {
    await this.#writeAtomically(ADOPTED_SLOT_FILE, slot);
  }

  async markConfirmed(): Promise<void> {
    await this.#setState('confirmed');
  }

  /** With no seed in the slot there is nothing to mark (the Kubernetes sink then records only the state). */
  async markDisabled(): Promise<void> {
    if (await this.#readSeedRecord(SEED_FILE)) await this.#setState('disabled');
  }

  async writeRecoveryCodes(codes: SecretValue<readonly string[]>): Promise<void> {
    await this.#writeAtomically(
      RECOVERY_CODES_FILE,
      JSON.stringify({ codes: codes.reveal(), updatedAt: new Date().toISOString() }),
    );
  }

  /** For tests and the controller's hand-off: the stored recovery codes, if any. */
  async readRecoveryCodes(): Promise<SecretValue<readonly string[]> | undefined> {
    const text = await readIfExists(join(this.#dir, RECOVERY_CODES_FILE));
    return text === undefined ? undefined : new SecretValue((JSON.parse(text) as { codes: string[] }).codes);
  }

  async #setState(state: ResultSeedState): Promise<void> {
    const record = await this.#readSeedRecord(SEED_FILE);
    if (!record) throw new Error(`No seed stored in the result directory; cannot mark it ${state}.`);
    await this.#writeAtomically(SEED_FILE, JSON.stringify({ ...record, state, updatedAt: new Date().toISOString() }));
  }

  async #readSeedRecord(file: string): Promise<SeedRecord | undefined> {
    const text = await readIfExists(join(this.#dir, file));
    return text === undefined ? undefined : (JSON.parse(text) as SeedRecord);
  }

  async #writeAtomically(name: string, content: string): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const target = join(this.#dir, name);
    const temporary = join(this.#dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      const file = await open(temporary, 'wx', 0o600);
      try {
        await file.writeFile(content, 'utf8');
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temporary, target);
    } catch (e: unknown) {
      await rm(temporary, { force: true });
      throw e;
    }
    await syncDirectory(this.#dir);
  }
}

function recordOf(seed: TotpSeed, state: ResultSeedState): SeedRecord {
  return {
    state,
    secret: seed.secret.reveal(),
    algorithm: seed.algorithm,
    digits: seed.digits,
    period: seed.period,
    ...(seed.issuer ? { issuer: seed.issuer } : {}),
    ...(seed.label ? { label: seed.label } : {}),
    updatedAt: new Date().toISOString(),
  };
}

function seedOf(record: SeedRecord): TotpSeed {
  return {
    secret: new SecretValue(record.secret),
    algorithm: record.algorithm,
    digits: record.digits,
    period: record.period,
    ...(record.issuer ? { issuer: record.issuer } : {}),
    ...(record.label ? { label: record.label } : {}),
  };
}

/** The rename is durable only once the directory entry is on disk. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e: unknown) {
    if (e instanceof Error && 'code' in e && e.code === 'ENOENT') return undefined;
    throw e;
  }
}
