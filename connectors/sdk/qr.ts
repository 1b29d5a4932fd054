import jsQRModule from 'jsqr';
import type { Locator } from 'playwright-core';
import { PNG } from 'pngjs';
import type { Logger } from '../../core/logging/logger.ts';
import { SecretValue } from '../../core/secrets/secret-value.ts';

/**
 * Reads the QR code an element shows. A screenshot of the element works the same for `<img>`,
 * `<canvas>` and `<svg>` (and CSS backgrounds) and does not depend on the page's own scripts,
 * which could tamper with canvas APIs if the reading happened inside the page. An `<img>` whose
 * picture is a PNG inlined in its `src` (the common server-rendered case) is decoded from those
 * bytes instead: the attribute is read outside the page's scripts too, and it saves the
 * screenshot's scroll, stability wait and capture (about 0.1 s of an enrollment).
 */

/** QR codes need a light "quiet zone"; elements drawn edge to edge get one added. */
const QUIET_ZONE_PX = 16;

// jsqr is CommonJS whose types declare an ES default export; at run time the function is the module itself.
const jsQR = jsQRModule as unknown as typeof jsQRModule.default;

export class QrNotFoundError extends Error {
  constructor() {
    super('The element does not contain a readable QR code.');
    this.name = 'QrNotFoundError';
  }
}

const INLINE_PNG = 'data:image/png;base64,';
/** Bigger inline pictures are left to the screenshot, whose size the rendered element bounds. */
const MAX_INLINE_BASE64 = 2 * 1024 * 1024;
const MAX_INLINE_SIDE_PX = 4096;

/** The element screenshot scrolls the element into view itself. */
export async function readQrFromElement(element: Locator, timeoutMs?: number): Promise<SecretValue<string>> {
  const timeout = timeoutMs === undefined ? {} : { timeout: timeoutMs };
  const inline = await inlinePng(element, timeout);
  if (inline) {
    try {
      return decodeQrPng(inline);
    } catch {
      // A corrupt or code-less src: what the element really draws is still worth a look.
    }
  }
  const png = await element.screenshot({
    type: 'png',
    animations: 'disabled',
    scale: 'device',
    ...timeout,
  });
  return decodeQrPng(png);
}

/**
 * The PNG a visible `<img>` shows from a base64 data URL in `src`, when that is all it can show
 * (no `srcset` choosing another picture) and its header declares a sane size; otherwise undefined.
 */
async function inlinePng(element: Locator, timeout: { timeout?: number }): Promise<Buffer | undefined> {
  await element.waitFor({ state: 'visible', ...timeout });
  const img = element.and(element.page().locator(`img[src^="${INLINE_PNG}"]:not([srcset])`));
  if ((await img.count()) !== 1) return undefined;
  const src = (await img.getAttribute('src', timeout)) ?? '';
  if (!src.startsWith(INLINE_PNG) || src.length - INLINE_PNG.length > MAX_INLINE_BASE64) return undefined;
  const png = Buffer.from(src.slice(INLINE_PNG.length), 'base64');
  return declaresSaneSize(png) ? png : undefined;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Width and height from the IHDR chunk, read before decoding so a forged header cannot claim gigabytes. */
function declaresSaneSize(png: Buffer): boolean {
  if (png.length < 24 || !png.subarray(0, 8).equals(PNG_SIGNATURE)) return false;
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  return width > 0 && height > 0 && width <= MAX_INLINE_SIDE_PX && height <= MAX_INLINE_SIDE_PX;
}

/**
 * The QR code's otpauth URI when the element shows a readable one; undefined, with a warning, when
 * it does not, for a page whose text key is enough on its own (the runner cross-checks the two).
 */
export async function readQrIfReadable(
  element: Locator,
  timeoutMs: number,
  logger: Pick<Logger, 'warn'>,
): Promise<SecretValue<string> | undefined> {
  try {
    return await readQrFromElement(element, timeoutMs);
  } catch (e: unknown) {
    if (!(e instanceof QrNotFoundError)) throw e;
    logger.warn('QR code unreadable; using the setup key alone');
    return undefined;
  }
}

/**
 * From this side up a picture is first read at half its size, a quarter of jsqr's work (its time
 * grows with the pixels: 60 against 100 ms in a fresh runner process here): an otpauth URI needs
 * at most a version-10 code, 65 modules with its quiet zone, so each module keeps 2 pixels.
 */
const HALF_SIZE_FROM_PX = 4 * 65;

export function decodeQrPng(png: Buffer): SecretValue<string> {
  const image = PNG.sync.read(png);
  const framed = withQuietZone(image.data, image.width, image.height);
  const small = Math.min(image.width, image.height) >= HALF_SIZE_FROM_PX ? halfSize(framed) : undefined;
  // Dark on light first, as nearly every page draws it; light on dark only when that finds nothing
  // ('invertFirst': jsqr's 'onlyInvert' never computes the inverted image it then reads). The full
  // size is read whenever the half size finds nothing.
  const found =
    (small && jsQR(small.data, small.width, small.height, { inversionAttempts: 'dontInvert' })) ||
    jsQR(framed.data, framed.width, framed.height, { inversionAttempts: 'dontInvert' }) ||
    jsQR(framed.data, framed.width, framed.height, { inversionAttempts: 'invertFirst' });
  if (!found || found.data === '') throw new QrNotFoundError();
  return new SecretValue(found.data);
}

interface Pixels {
  data: Uint8ClampedArray;
  width: number;
  height: number;
}

/** Each 2×2 block of pixels as their mean colour (the framed picture is opaque: flattened on white). */
function halfSize(pixels: Pixels): Pixels {
  const width = Math.floor(pixels.width / 2);
  const height = Math.floor(pixels.height / 2);
  const data = new Uint8ClampedArray(width * height * 4);
  const { data: from, width: fromWidth } = pixels;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const top = (2 * y * fromWidth + 2 * x) * 4;
      const bottom = top + fromWidth * 4;
      const out = (y * width + x) * 4;
      for (let c = 0; c < 3; c++)
        data[out + c] = (from[top + c]! + from[top + 4 + c]! + from[bottom + c]! + from[bottom + 4 + c]! + 2) >> 2;
      data[out + 3] = 255;
    }
  }
  return { data, width, height };
}

function withQuietZone(rgba: Buffer, width: number, height: number): Pixels {
  const framedWidth = width + 2 * QUIET_ZONE_PX;
  const framedHeight = height + 2 * QUIET_ZONE_PX;
  const data = new Uint8ClampedArray(framedWidth * framedHeight * 4).fill(255);
  for (let y = 0; y < height; y++) {
    const from = y * width * 4;
    const to = ((y + QUIET_ZONE_PX) * framedWidth + QUIET_ZONE_PX) * 4;
    data.set(flattenOnWhite(rgba.subarray(from, from + width * 4)), to);
  }
  return { data, width: framedWidth, height: framedHeight };
}

/** Transparent pixels (SVG and canvas backgrounds) would read as black; composite them on white. */
function flattenOnWhite(row: Buffer): Uint8ClampedArray {
  const out = new Uint8ClampedArray(row.length);
  for (let i = 0; i < row.length; i += 4) {
    if (row[i + 3] === 255) {
      out[i] = row[i]!;
      out[i + 1] = row[i + 1]!;
      out[i + 2] = row[i + 2]!;
      out[i + 3] = 255;
      continue;
    }
    const alpha = (row[i + 3] ?? 255) / 255;
    for (let c = 0; c < 3; c++) out[i + c] = Math.round((row[i + c] ?? 255) * alpha + 255 * (1 - alpha));
    out[i + 3] = 255;
  }
  return out;
}
