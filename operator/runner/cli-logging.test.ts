import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector, ConnectorContext, Credentials } from '../../connectors/sdk/connector.ts';
import { ConnectorRegistry } from '../../connectors/sdk/registry.ts';
import { runRunnerCli } from './cli.ts';

const PASSWORD = 'Tr0ub4dor&3-"horse"';

/** A connector standing in for a careless automation or a page that echoes what was typed into it. */
const echoingConnector = {
  id: 'echo',
  displayName: 'Echo',
  version: '0.0.1',
  allowedLoginHosts: ['127.0.0.1'],
  async login(ctx: ConnectorContext, credentials: Credentials) {
    const typed = credentials.password.reveal();
    ctx.logger
      .child({ form: `login form with ${typed}` })
      .info({ detail: { filled: [`value=${typed}`] } }, `typed ${typed} into the password field`);
    ctx.logger.warn(`the page answered: ${encodeURIComponent(typed)} is not valid`);
    throw new Error(`page error: ${typed} rejected`);
  },
} as Partial<Connector> as Connector;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runner-logging-'));
  await writeFile(join(dir, 'username'), 'bob@example.com');
  await writeFile(join(dir, 'password'), PASSWORD);
  await writeFile(
    join(dir, 'spec.json'),
    JSON.stringify({
      connector: 'echo',
      action: 'enable',
      loginUrl: 'http://127.0.0.1:9/login',
      credentials: { usernameFile: join(dir, 'username'), passwordFile: join(dir, 'password') },
      sink: { type: 'file', dir: join(dir, 'sink') },
    }),
  );
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the runner CLI log', () => {
  it('removes every secret the run handled from each line: messages, fields, bindings, encoded forms', async () => {
    const lines: string[] = [];
    const logDestination = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const stdout = new PassThrough();
    let summary = '';
    stdout.on('data', (chunk: Buffer) => {
      summary += chunk.toString();
    });

    const code = await runRunnerCli(
      ['--run-spec', join(dir, 'spec.json'), '--termination-message-path', join(dir, 'term')],
      {
        stdout,
        logDestination,
        connectors: new ConnectorRegistry({ echo: async () => ({ connector: echoingConnector }) }),
      },
    );

    const log = lines.join('');
    expect(code).toBe(1);
    expect(log).toContain('into the password field');
    expect(log).toContain('is not valid');
    for (const form of [PASSWORD, JSON.stringify(PASSWORD).slice(1, -1), encodeURIComponent(PASSWORD), 'Tr0ub4dor']) {
      expect(log).not.toContain(form);
      expect(summary).not.toContain(form);
    }
  });
});
