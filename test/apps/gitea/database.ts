import { randomBytes } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';

/** A user's second factors in Gitea's database (no secrets: whether TOTP is on, how many keys). */
export interface TwoFactorState {
  readonly totp: boolean;
  readonly securityKeys: number;
}

/**
 * The test instance's SQLite database, read (and, for a security key, written) beside the running
 * server: Gitea's API says nothing about a user's second factors, and registering a key through
 * its pages needs the frontend bundle, which the test build leaves out (hack/fetch-gitea.sh).
 * Each call opens the file and closes it again, so the server never waits on a lock we hold.
 */
export class GiteaDatabase {
  readonly #path: string;
  #closed = false;

  constructor(path: string) {
    this.#path = path;
  }

  twoFactor(username: string): TwoFactorState {
    return this.#use(true, (db) => {
      const id = userId(db, username);
      const totp = db.prepare('SELECT COUNT(*) AS n FROM two_factor WHERE uid = ?').get(id) as { n: number };
      const keys = db.prepare('SELECT COUNT(*) AS n FROM webauthn_credential WHERE user_id = ?').get(id) as {
        n: number;
      };
      return { totp: totp.n > 0, securityKeys: keys.n };
    });
  }

  /** A row as Gitea writes one when a key is registered; the key material is random, so it can never sign in. */
  addSecurityKey(username: string): void {
    this.#use(false, (db) => {
      const now = Math.floor(Date.now() / 1000);
      db.prepare(
        `INSERT INTO webauthn_credential (name, lower_name, user_id, credential_id, public_key, attestation_type, aaguid,
        sign_count, clone_warning, created_unix, updated_unix) VALUES ('test key', 'test key', ?, ?, ?, 'none', ?, 0, 0, ?, ?)`,
      ).run(userId(db, username), randomBytes(32), randomBytes(77), Buffer.alloc(16), now, now);
    });
  }

  close(): void {
    this.#closed = true;
  }

  #use<T>(readOnly: boolean, work: (db: DatabaseSync) => T): T {
    if (this.#closed) throw new Error('the Gitea test server has stopped');
    const db = new DatabaseSync(this.#path, { readOnly, timeout: 5_000 });
    try {
      return work(db);
    } finally {
      db.close();
    }
  }
}

function userId(db: DatabaseSync, username: string): number {
  const row = db.prepare('SELECT id FROM user WHERE lower_name = ?').get(username.toLowerCase()) as
    { id: number } | undefined;
  if (!row) throw new Error(`no Gitea user ${username}`);
  return row.id;
}
