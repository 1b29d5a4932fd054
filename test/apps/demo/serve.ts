#!/usr/bin/env node
// Starts the demo app for `make demo` and for end-to-end tests that run it as a separate process.
// Usage: node test/apps/demo/serve.ts --port 8081 --user demo@example.com --password ... [hazard flags]
// See test/apps/demo/README.md for the flags.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SecretValue } from '../../../core/secrets/secret-value.ts';
import { startDemoApp, type DemoAppOptions } from './demo-app.ts';
import type { DemoAccountSpec } from './accounts.ts';
import type { HazardSettings, QrFormat, TotpAlgorithm } from './hazards.ts';

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  port: { type: 'string', default: '8081' },
  host: { type: 'string', default: '127.0.0.1' },
  'admin-token-file': { type: 'string' },
  user: { type: 'string' },
  password: { type: 'string' },
  'password-file': { type: 'string' },
  'mfa-already-on': { type: 'string' },
  'other-mfa-method': { type: 'boolean' },
  'step-up': { type: 'boolean' },
  captcha: { type: 'boolean' },
  'rate-limit': { type: 'string' },
  'slow-pages': { type: 'string' },
  'qr-only': { type: 'boolean' },
  'lowercase-grouped-key': { type: 'boolean' },
  'key-with-padding': { type: 'boolean' },
  'qr-format': { type: 'string' },
  'require-codes-acknowledged': { type: 'boolean' },
  'totp-algorithm': { type: 'string' },
  'totp-digits': { type: 'string' },
  'totp-period': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
} as const;

type Flags = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];

function totpFlags(flags: Flags): HazardSettings {
  if (!flags['totp-algorithm'] && !flags['totp-digits'] && !flags['totp-period']) return {};
  return {
    totp: {
      algorithm: (flags['totp-algorithm'] ?? 'SHA1').toUpperCase() as TotpAlgorithm,
      digits: Number(flags['totp-digits'] ?? 6),
      period: Number(flags['totp-period'] ?? 30),
    },
  };
}

function hazardsFromFlags(flags: Flags): HazardSettings {
  const seed = flags['mfa-already-on'];
  return {
    ...(seed ? { mfaAlreadyOn: { seed } } : {}),
    otherMfaMethod: flags['other-mfa-method'] ?? false,
    stepUp: flags['step-up'] ?? false,
    captcha: flags.captcha ?? false,
    rateLimit: Number(flags['rate-limit'] ?? 0),
    slowPages: Number(flags['slow-pages'] ?? 0),
    qrOnly: flags['qr-only'] ?? false,
    lowercaseGroupedKey: flags['lowercase-grouped-key'] ?? false,
    keyWithPadding: flags['key-with-padding'] ?? false,
    qrFormat: (flags['qr-format'] ?? 'img') as QrFormat,
    requireCodesAcknowledged: flags['require-codes-acknowledged'] ?? false,
    ...totpFlags(flags),
  };
}

function password(flags: Flags): string | undefined {
  if (flags['password-file']) return readFileSync(flags['password-file'], 'utf8').trimEnd();
  return flags.password ?? process.env.DEMO_PASSWORD;
}

/** Where and how the app listens: address, TLS, and the admin token for clients off loopback. */
function serving(flags: Flags): Pick<DemoAppOptions, 'host' | 'tls' | 'adminToken'> {
  if (flags.host !== '127.0.0.1' && flags.host !== '0.0.0.0') throw new Error('--host must be 127.0.0.1 or 0.0.0.0');
  const tokenFile = flags['admin-token-file'];
  const adminToken = tokenFile ? new SecretValue(readFileSync(tokenFile, 'utf8').trim()) : undefined;
  if (Boolean(flags['tls-cert']) !== Boolean(flags['tls-key'])) throw new Error('--tls-cert and --tls-key go together');
  const tls =
    flags['tls-cert'] && flags['tls-key']
      ? { cert: readFileSync(flags['tls-cert']), key: readFileSync(flags['tls-key']) }
      : undefined;
  return { host: flags.host, ...(adminToken ? { adminToken } : {}), ...(tls ? { tls } : {}) };
}

async function main(): Promise<void> {
  const { values: flags } = parseArgs({ options: OPTIONS, strict: true });
  if (flags.help) {
    const names = Object.keys(OPTIONS)
      .map((name) => `--${name}`)
      .join(' ');
    process.stdout.write(`usage: node test/apps/demo/serve.ts [${names}]\nsee test/apps/demo/README.md\n`);
    return;
  }
  const secret = password(flags);
  if (flags.user && !secret) throw new Error('--user needs --password, --password-file or DEMO_PASSWORD');
  const accounts: DemoAccountSpec[] =
    flags.user && secret ? [{ email: flags.user, password: secret, hazards: hazardsFromFlags(flags) }] : [];
  const app = await startDemoApp({ port: Number(flags.port), accounts, ...serving(flags) });
  process.stdout.write(`demo app listening on ${app.url}\n`);
  const stop = (): void => {
    app.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`demo app: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
