import type { BrowserContext, Page, Request, Route } from 'playwright-core';
import type { Logger } from '../../core/logging/logger.ts';
import { checkHost, type Refusal } from './destination.ts';

/** Enough to see what happened; a page that loops on refused requests cannot grow the list. */
const MAX_REFUSALS = 50;
const WEB_SCHEMES = new Set(['http:', 'https:', 'ws:', 'wss:']);

const guards = new WeakMap<Page, HostGuard>();

/**
 * One session's host policy, on the browser's side of the egress proxy. The proxy is what holds
 * (it sees redirect hops and resolves names); the guard refuses first requests early with a clear
 * `ERR_BLOCKED_BY_CLIENT`, notices when the page itself is sent off the allowed hosts, and lets
 * connectors check where a page is before a secret is typed (`assertSecretInputAllowed`).
 */
export class HostGuard {
  readonly #allowedHosts: readonly string[];
  readonly #logger: Logger;
  readonly #refusals: Refusal[] = [];
  #refusedNavigation: Refusal | undefined;

  constructor(allowedHosts: readonly string[], logger: Logger) {
    this.#allowedHosts = allowedHosts;
    this.#logger = logger;
  }

  static of(page: Page): HostGuard | undefined {
    return guards.get(page);
  }

  get refusals(): readonly Refusal[] {
    return this.#refusals;
  }

  get refusedNavigation(): Refusal | undefined {
    return this.#refusedNavigation;
  }

  /** Undefined when `url` is on an allowed host; non-web URLs (about:, data:, chrome-error:) are refused. */
  check(url: string): Refusal | undefined {
    const parsed = URL.canParse(url) ? new URL(url) : undefined;
    if (!parsed || !WEB_SCHEMES.has(parsed.protocol)) return { host: parsed ? parsed.protocol : '(unparseable URL)', reason: 'Unparseable' };
    return checkHost(parsed.hostname, this.#allowedHosts);
  }

  refused(refusal: Refusal): void {
    if (this.#refusals.length < MAX_REFUSALS) this.#refusals.push(refusal);
    this.#logger.warn({ host: refusal.host, reason: refusal.reason }, 'refused a browser request outside the allowed hosts');
  }

  async install(context: BrowserContext): Promise<void> {
    await context.route('**/*', (route) => this.#guardRequest(route));
  }

  /** Every main-frame navigation, redirect hops included (the proxy refuses those; this records where the page was sent). */
  watch(page: Page): void {
    guards.set(page, this);
    page.on('request', (request) => this.#noticeNavigation(page, request));
  }

  async #guardRequest(route: Route): Promise<void> {
    const url = route.request().url();
    const refusal = WEB_SCHEMES.has(url.slice(0, url.indexOf(':') + 1)) ? this.check(url) : undefined;
    if (!refusal) {
      await route.continue();
      return;
    }
    this.refused(refusal);
    await route.abort('blockedbyclient');
  }

  /** The last main-frame navigation decides: a later one to an allowed host (the connector going back) clears it. */
  #noticeNavigation(page: Page, request: Request): void {
    if (!request.isNavigationRequest()) return;
    let mainFrame = false;
    try {
      mainFrame = request.frame() === page.mainFrame();
    } catch {
      return; // service worker requests have no frame; they are blocked anyway
    }
    if (!mainFrame) return;
    this.#refusedNavigation = this.check(request.url());
  }
}

/** Before a secret is typed: the field's frame and the page must both be on an allowed host. */
export function secretInputRefusal(page: Page, frameUrl: string): Refusal | undefined {
  const guard = HostGuard.of(page);
  if (!guard) return { host: '(a page without the host guard)', reason: 'NotAllowed' };
  const refusal = guard.check(page.url()) ?? guard.check(frameUrl);
  // An error page (chrome-error:) after a refused navigation: name the host the page was sent to.
  return refusal && (guard.refusedNavigation ?? refusal);
}
