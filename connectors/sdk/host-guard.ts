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
  /** Origins the check let through: the decision is the host's alone, so it holds for every later request there. */
  readonly #allowedOrigins = new Set<string>();
  /** The requests this handler is asked about: all but those of the allowed origins (see `#remember`). */
  #pattern: RegExp = routedUrls(this.#allowedOrigins);
  #context: BrowserContext | undefined;
  #patternUpdates: Promise<void> = Promise.resolve();
  readonly #handler = (route: Route): Promise<void> => this.#guardRequest(route);

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
    if (!parsed || !WEB_SCHEMES.has(parsed.protocol))
      return { host: parsed ? parsed.protocol : '(unparseable URL)', reason: 'Unparseable' };
    return checkHost(parsed.hostname, this.#allowedHosts);
  }

  refused(refusal: Refusal): void {
    if (this.#refusals.length < MAX_REFUSALS) this.#refusals.push(refusal);
    this.#logger.warn(
      { host: refusal.host, reason: refusal.reason },
      'refused a browser request outside the allowed hosts',
    );
  }

  async install(context: BrowserContext): Promise<void> {
    this.#context = context;
    await context.route(this.#pattern, this.#handler);
  }

  /** Every main-frame navigation, redirect hops included (the proxy refuses those; this records where the page was sent). */
  watch(page: Page): void {
    guards.set(page, this);
    page.on('request', (request) => this.#noticeNavigation(page, request));
  }

  async #guardRequest(route: Route): Promise<void> {
    const url = route.request().url();
    const web = WEB_SCHEMES.has(url.slice(0, url.indexOf(':') + 1));
    const refusal = web ? this.check(url) : undefined;
    if (!refusal) {
      await route.continue();
      if (web) await this.#remember(new URL(url).origin);
      return;
    }
    this.refused(refusal);
    await route.abort('blockedbyclient');
  }

  /**
   * Playwright matches the route's pattern itself and lets a request it does not match through
   * without asking this handler, a round trip to Node per request saved. So the pattern leaves
   * out the origins already allowed. The new pattern is routed before the old one is removed:
   * no request ever goes unrouted. If a swap fails (the context closing), the old pattern stays
   * and every request keeps coming to the handler.
   */
  async #remember(origin: string): Promise<void> {
    if (this.#allowedOrigins.has(origin) || !this.#context) return;
    this.#allowedOrigins.add(origin);
    const context = this.#context;
    this.#patternUpdates = this.#patternUpdates
      .then(async () => {
        const previous = this.#pattern;
        const next = routedUrls(this.#allowedOrigins);
        await context.route(next, this.#handler);
        this.#pattern = next;
        await context.unroute(previous, this.#handler);
      })
      .catch((e: unknown) => {
        this.#logger.debug(
          { error: e instanceof Error ? e.name : typeof e },
          'kept routing every request to the host guard',
        );
      });
    await this.#patternUpdates;
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

/** Every URL except those on one of `origins` (`scheme://host:port` exactly, then a path, query, fragment or nothing). */
export function routedUrls(origins: ReadonlySet<string>): RegExp {
  if (origins.size === 0) return /^/;
  const escaped = [...origins].map((origin) => origin.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
  return new RegExp(`^(?!(?:${escaped.join('|')})(?:[/?#]|$))`);
}

/** Before a secret is typed: the field's frame and the page must both be on an allowed host. */
export function secretInputRefusal(page: Page, frameUrl: string): Refusal | undefined {
  const guard = HostGuard.of(page);
  if (!guard) return { host: '(a page without the host guard)', reason: 'NotAllowed' };
  const refusal = guard.check(page.url()) ?? guard.check(frameUrl);
  // An error page (chrome-error:) after a refused navigation: name the host the page was sent to.
  return refusal && (guard.refusedNavigation ?? refusal);
}
