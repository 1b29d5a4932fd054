import { join } from 'node:path';

export interface GiteaSiteConfig {
  readonly workDir: string;
  /** share/ of the install: templates, options (locales), public. */
  readonly staticRoot: string;
  readonly port: number;
  readonly secretKey: string;
  readonly internalToken: string;
  /** CI runs the tests as root, which Gitea refuses unless told otherwise (its own, undocumented, key). */
  readonly runningAsRoot: boolean;
}

/**
 * app.ini for a throwaway instance: installed already (INSTALL_LOCK), SQLite in the work dir, HTTP on
 * 127.0.0.1 only, no SSH, no mail, no outside requests (OFFLINE_MODE, no avatars from elsewhere, no
 * update checks), no self-registration: accounts come from the admin CLI and API only.
 */
export function giteaAppIni(config: GiteaSiteConfig): string {
  const { workDir, staticRoot, port } = config;
  return `APP_NAME = Gitea test
RUN_MODE = prod
WORK_PATH = ${workDir}
${config.runningAsRoot ? 'I_AM_BEING_UNSAFE_RUNNING_AS_ROOT = true\n' : ''}
[server]
PROTOCOL = http
HTTP_ADDR = 127.0.0.1
HTTP_PORT = ${port}
DOMAIN = 127.0.0.1
ROOT_URL = http://127.0.0.1:${port}/
STATIC_ROOT_PATH = ${staticRoot}
APP_DATA_PATH = ${join(workDir, 'data')}
OFFLINE_MODE = true
DISABLE_SSH = true
START_SSH_SERVER = false
LFS_START_SERVER = false

[database]
DB_TYPE = sqlite3
PATH = ${join(workDir, 'data', 'gitea.db')}

[security]
INSTALL_LOCK = true
SECRET_KEY = ${config.secretKey}
INTERNAL_TOKEN = ${config.internalToken}

[service]
DISABLE_REGISTRATION = true
REQUIRE_SIGNIN_VIEW = false
ENABLE_NOTIFY_MAIL = false
DEFAULT_KEEP_EMAIL_PRIVATE = true

[mailer]
ENABLED = false

[repository]
ROOT = ${join(workDir, 'repositories')}

[picture]
DISABLE_GRAVATAR = true
ENABLE_FEDERATED_AVATAR = false

[cron.update_checker]
ENABLED = false

[session]
PROVIDER = memory

[cache]
ADAPTER = memory

[queue]
TYPE = level
DATADIR = ${join(workDir, 'queues')}

[indexer]
ISSUE_INDEXER_TYPE = db
REPO_INDEXER_ENABLED = false

[log]
MODE = console
LEVEL = Info
ROOT_PATH = ${join(workDir, 'log')}
`;
}
