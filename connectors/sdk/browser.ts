import { chmod, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page, type Request } from 'playwright-core';
import type { Logger } from '../../core/logging/logger.ts';
import type { Refusal } from './destination.ts';
import { SOCKET_ERROR_CODE, startEgressProxy, UNREACHABLE_HEADER, type EgressProxy } from './egress-proxy.ts';
import { appUnreachable, isConnectorError, pageLeftAllowedHosts, tlsUntrusted } from './errors.ts';
import { HostGuard } from './host-guard.ts';
import { scrubZipEntries } from './trace-zip.ts';

/** Debian's chromium: the runner image and dev machines install it; Playwright's own builds are not used. */
export const CHROMIUM_PATH = process.env.MFA_CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  // WebRTC would send UDP around the egress proxy (see egress-proxy.ts).
  '--webrtc-ip-handling-policy=disable_non_proxied_udp',
  // Autofill asks a Google server about every form it parses; the guard would refuse each query (and log it).
  '--disable-features=AutofillServerCommunication',
];

/** Connector reasons a page that is not the app's can cause; other reasons say something of their own. */
const PAGE_CONSEQUENCES: ReadonlySet<string> = new Set(['Timeout', 'ConnectorOutdated', 'ChallengeRequired']);

function isPageConsequence(e: unknown): boolean {
  if (isConnectorError(e)) return PAGE_CONSEQUENCES.has(e.reason);
  // Our own typed errors carry a reason; a bare Error is Playwright's (a closed page, a failed navigation).
  return !(e instanceof Error && 'reason' in e);
}

/** Passwords and seeds on pages: `mask` covers them in failure screenshots with this colour. */
const MASK_COLOR = '#FF00FF';

/**
 * Playwright's own signal handlers would close the browser under a running step; the runner handles SIGTERM
 * and SIGINT itself (operator/runner/stop-request.ts) and closes the browser when it is done.
 */
export async function launchBrowser(executablePath = CHROMIUM_PATH, options: LaunchOptions = {}): Promise<Browser> {
  return chromium.launch({
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
    ...(options.home ? { env: { ...process.env, HOME: options.home } } : {}),
  });
}

export interface LaunchOptions {
  /** HOME of the browser process: its $HOME/.pki/nssdb holds the extra CAs it trusts (browser-trust.ts). */
  home?: string;
}

/** Chromium's net errors for a certificate it does not accept (unknown CA, wrong name, expired, ...). */
const CERTIFICATE_ERROR = /^net::ERR_CERT_[A-Z_]+/;
/**
 * Chromium's net errors for a server it could not reach at all. Every request goes through the egress proxy: a
 * CONNECT (HTTPS) it cannot complete is net::ERR_TUNNEL_CONNECTION_FAILED to Chromium (one it refuses is reported
 * as LoginHostNotAllowed first), and a plain-HTTP one is the proxy's 502 carrying UNREACHABLE_HEADER.
 */
const UNREACHABLE_ERROR =
  /^net::ERR_(CONNECTION_REFUSED|CONNECTION_RESET|CONNECTION_CLOSED|CONNECTION_FAILED|CONNECTION_TIMED_OUT|TIMED_OUT|NAME_NOT_RESOLVED|NAME_RESOLUTION_FAILED|ADDRESS_UNREACHABLE|EMPTY_RESPONSE|TUNNEL_CONNECTION_FAILED)\b/;

export interface BrowserSessionOptions {
  /**
   * The only hosts the browser may reach, for navigations, redirect hops, subresources and
   * WebSockets alike (patterns as in Connector.allowedLoginHosts); see host-guard.ts.
   */
  allowedHosts: readonly string[];
  logger: Logger;
  /** Where failure artifacts go; none are written without it. */
  artifactsDir?: string;
  /** Selectors of elements that can show secrets; painted over in screenshots. */
  secretElements?: readonly string[];
}

/** A fresh browser context for one run: no cookies, storage or service workers from before. */
export class BrowserSession {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly #options: BrowserSessionOptions;
  readonly #proxy: EgressProxy;
  readonly #guard: HostGuard;
  /** The last main-frame navigation that failed on the server's certificate, or never reached the server, until one succeeds. */
  #navigationFailure: { host: string; error: string; kind: 'certificate' | 'unreachable' } | undefined;

  private constructor(
    context: BrowserContext,
    page: Page,
    options: BrowserSessionOptions,
    proxy: EgressProxy,
    guard: HostGuard,
  ) {
    this.context = context;
    this.page = page;
    this.#options = options;
    this.#proxy = proxy;
    this.#guard = guard;
    page.on('requestfailed', (request) => {
      if (!isMainFrameNavigation(page, request)) return;
      const text = request.failure()?.errorText ?? '';
      const host = new URL(request.url()).host;
      const certificate = CERTIFICATE_ERROR.exec(text)?.[0];
      const unreachable = UNREACHABLE_ERROR.exec(text)?.[0];
      if (certificate) this.#navigationFailure = { host, error: certificate, kind: 'certificate' };
      else if (unreachable) this.#navigationFailure = { host, error: unreachable, kind: 'unreachable' };
    });
    page.on('response', (response) => {
      const request = response.request();
      if (!isMainFrameNavigation(page, request)) return;
      // A page can send the same header itself (over HTTPS the proxy never sees it): only a 502 carrying a socket
      // error code counts, so no text of the page can reach the run's reason or message.
      const code = response.headers()[UNREACHABLE_HEADER];
      const proxyAnswer = response.status() === 502 && code !== undefined && SOCKET_ERROR_CODE.test(code);
      this.#navigationFailure = proxyAnswer
        ? { host: new URL(request.url()).host, error: code, kind: 'unreachable' }
        : undefined;
    });
  }

  static async open(browser: Browser, options: BrowserSessionOptions): Promise<BrowserSession> {
    const guard = new HostGuard(options.allowedHosts, options.logger);
    const proxy = await startEgressProxy({
      allowedHosts: options.allowedHosts,
      onRefusal: (refusal) => guard.refused(refusal),
    });
    try {
      // Service workers would fetch outside context.route; the proxy would still hold, but block them all the same.
      const context = await browser.newContext({
        serviceWorkers: 'block',
        acceptDownloads: false,
        proxy: { server: proxy.url },
      });
      await guard.install(context);
      if (options.artifactsDir) {
        // Snapshots and sources would copy page text (setup keys, codes) into the trace; keep only the action log.
        await context.tracing.start({ screenshots: false, snapshots: false, sources: false });
      }
      const page = await context.newPage();
      guard.watch(page);
      return new BrowserSession(context, page, options, proxy, guard);
    } catch (e: unknown) {
      await proxy.close();
      throw e;
    }
  }

  /** Destinations refused so far in this session (host and reason, nothing else). */
  get refusals(): readonly Refusal[] {
    return this.#guard.refusals;
  }

  /** Set while the page's last main-frame navigation was refused (a redirect, a script sent it off the allowed hosts). */
  get refusedNavigation(): Refusal | undefined {
    return this.#guard.refusedNavigation;
  }

  /**
   * What a failed run is reported as. While the page is sent off the allowed hosts, what the
   * connector saw next (a timeout, a missing element, an unexpected page, a Playwright error) is
   * only a consequence of that; the runner's own reasons (the store, the seed) are kept.
   */
  explainFailure(e: unknown): unknown {
    if (!isPageConsequence(e)) return e;
    const refusal = this.#guard.refusedNavigation;
    if (refusal) return pageLeftAllowedHosts(refusal.host, refusal.reason, "following the app's pages");
    const failure = this.#navigationFailure;
    if (failure?.kind === 'certificate') return tlsUntrusted(failure.host, failure.error, e);
    if (failure?.kind === 'unreachable') return appUnreachable(failure.host, failure.error, e);
    return e;
  }

  /**
   * Screenshot (secret elements masked) and trace of the failed run, when artifacts are on.
   * The trace records call parameters (a filled password, a submitted code), so it is kept only
   * after `scrub` removed every secret the run handled. Returns the paths written.
   */
  async saveFailureArtifacts(scrub: (text: string) => string): Promise<string[]> {
    const dir = this.#options.artifactsDir;
    if (!dir) return [];
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const screenshot = join(dir, 'failure.png');
    const trace = join(dir, 'trace.zip');
    const mask = (this.#options.secretElements ?? []).map((selector) => this.page.locator(selector));
    await this.page.screenshot({
      path: screenshot,
      fullPage: true,
      mask,
      maskColor: MASK_COLOR,
      animations: 'disabled',
    });
    await chmod(screenshot, 0o600);
    await this.context.tracing.stop({ path: trace });
    try {
      await scrubZipEntries(trace, scrub);
    } catch (e: unknown) {
      await rm(trace, { force: true });
      throw e;
    }
    return [screenshot, trace];
  }

  async close(): Promise<void> {
    try {
      await this.context.close();
    } finally {
      await this.#proxy.close();
    }
  }
}

function isMainFrameNavigation(page: Page, request: Request): boolean {
  if (!request.isNavigationRequest()) return false;
  try {
    return request.frame() === page.mainFrame();
  } catch {
    return false; // service worker requests have no frame
  }
}
