import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';

// jsqr is CommonJS whose types declare an ES default export; at run time the function is the module itself.
const jsQR = jsQRModule as unknown as typeof jsQRModule.default;

/** A page as the browserless client saw it after following redirects. */
export interface FetchedPage {
  status: number;
  /** Path of the final page, after redirects. */
  path: string;
  headers: Headers;
  html: string;
}

/**
 * A tiny browser for tests: a cookie jar, manual redirects (so cookies set on a 303 are kept),
 * and form posts that carry the page's CSRF token like a real form would.
 */
export class DemoHttpClient {
  readonly #baseUrl: string;
  readonly #cookies = new Map<string, string>();

  constructor(baseUrl: string) {
    this.#baseUrl = baseUrl;
  }

  cookieHeader(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const response = await fetch(new URL(path, this.#baseUrl), {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string> | undefined), cookie: this.cookieHeader() },
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const [name = '', value = ''] = pair.split('=');
      if (/Max-Age=0/i.test(line)) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
    return response;
  }

  async get(path: string): Promise<FetchedPage> {
    return this.#follow(await this.request(path), path);
  }

  /** Posts a form the way the page's <form> would, with its hidden _csrf field. */
  async submit(page: FetchedPage, action: string, fields: Record<string, string>): Promise<FetchedPage> {
    const body = new URLSearchParams({ _csrf: csrfToken(page), ...fields });
    const response = await this.request(action, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    return this.#follow(response, action);
  }

  async #follow(first: Response, path: string): Promise<FetchedPage> {
    let response = first;
    let current = path;
    for (let hops = 0; response.status >= 300 && response.status < 400; hops++) {
      if (hops > 5) throw new Error(`too many redirects from ${path}`);
      current = response.headers.get('location') ?? '/';
      response = await this.request(current);
    }
    return {
      status: response.status,
      path: new URL(current, this.#baseUrl).pathname,
      headers: response.headers,
      html: await response.text(),
    };
  }
}

export function csrfToken(page: FetchedPage): string {
  const token = /name="_csrf" value="([^"]+)"/.exec(page.html)?.[1];
  if (!token) throw new Error(`no CSRF token on ${page.path}`);
  return token;
}

function unescapeHtml(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** Text content of the element with this id (tags stripped). */
export function textById(page: FetchedPage, id: string): string | undefined {
  const match = new RegExp(`<(\\w+)[^>]*\\sid="${id}"[^>]*>([\\s\\S]*?)</\\1>`).exec(page.html);
  return match?.[2] === undefined ? undefined : unescapeHtml(match[2].replace(/<[^>]+>/g, '')).trim();
}

export function alertText(page: FetchedPage): string | undefined {
  const match = /<p role="alert"[^>]*>([\s\S]*?)<\/p>/.exec(page.html);
  return match?.[1] === undefined ? undefined : unescapeHtml(match[1]);
}

export function recoveryCodesOn(page: FetchedPage): string[] {
  const list = /<ol id="recovery-codes"[^>]*>([\s\S]*?)<\/ol>/.exec(page.html)?.[1] ?? '';
  return [...list.matchAll(/<code>([^<]+)<\/code>/g)].map((match) => match[1] ?? '');
}

/** Decodes the PNG QR code of the setup page (qrFormat img) to the text it carries. */
export function decodeQrImage(page: FetchedPage): string {
  const base64 = /<img id="totp-qr" src="data:image\/png;base64,([^"]+)"/.exec(page.html)?.[1];
  if (!base64) throw new Error('no PNG QR code on the page');
  const png = PNG.sync.read(Buffer.from(base64, 'base64'));
  const decoded = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  if (!decoded) throw new Error('QR code did not decode');
  return decoded.data;
}
