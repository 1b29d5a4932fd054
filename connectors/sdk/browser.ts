import { chmod, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page, type Route } from 'playwright-core';
import type { Logger } from '../../operator/logging/logger.ts';
import { isAllowedHost, isBlockedHost } from './login-host.ts';
import { scrubZipEntries } from './trace-zip.ts';

/** Debian's chromium: the runner image and dev machines install it; Playwright's own builds are not used. */
export const CHROMIUM_PATH = process.env.MFA_CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic',
];

/** Passwords and seeds on pages: `mask` covers them in failure screenshots with this colour. */
const MASK_COLOR = '#FF00FF';

/**
 * Playwright's own signal handlers would close the browser under a running step; the runner handles SIGTERM
 * and SIGINT itself (operator/runner/stop-request.ts) and closes the browser when it is done.
 */
export async function launchBrowser(executablePath = CHROMIUM_PATH): Promise<Browser> {
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS, handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false });
}

export interface BrowserSessionOptions {
  /** Top-level navigations may go only to these hosts (patterns as in Connector.allowedLoginHosts). */
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

  private constructor(context: BrowserContext, page: Page, options: BrowserSessionOptions) {
    this.context = context;
    this.page = page;
    this.#options = options;
  }

  static async open(browser: Browser, options: BrowserSessionOptions): Promise<BrowserSession> {
    // Service workers would fetch outside context.route and escape the blocking below.
    const context = await browser.newContext({ serviceWorkers: 'block', acceptDownloads: false });
    await context.route('**/*', (route) => guardRequest(route, options));
    if (options.artifactsDir) {
      // Snapshots and sources would copy page text (setup keys, codes) into the trace; keep only the action log.
      await context.tracing.start({ screenshots: false, snapshots: false, sources: false });
    }
    const page = await context.newPage();
    return new BrowserSession(context, page, options);
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
    await this.page.screenshot({ path: screenshot, fullPage: true, mask, maskColor: MASK_COLOR, animations: 'disabled' });
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
    await this.context.close();
  }
}

async function guardRequest(route: Route, options: BrowserSessionOptions): Promise<void> {
  const request = route.request();
  const url = safeUrl(request.url());
  if (url && isBlockedHost(url.hostname)) {
    options.logger.warn({ host: url.hostname }, 'blocked a request to a link-local or metadata address');
    await route.abort('blockedbyclient');
    return;
  }
  const topLevel = request.isNavigationRequest() && request.frame().parentFrame() === null;
  const webUrl = url?.protocol === 'http:' || url?.protocol === 'https:';
  if (topLevel && webUrl && url && !isAllowedHost(url.hostname, options.allowedHosts)) {
    options.logger.warn({ host: url.hostname }, 'blocked a navigation outside the allowed login hosts');
    await route.abort('blockedbyclient');
    return;
  }
  await route.continue();
}

function safeUrl(raw: string): URL | undefined {
  try {
    return new URL(raw);
  } catch {
    return undefined;
  }
}
