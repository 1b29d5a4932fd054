import jsQRModule from 'jsqr';
import type { Locator } from 'playwright-core';
import { PNG } from 'pngjs';
import type { Logger } from '../../core/logging/logger.ts';
import { SecretValue } from '../../core/secrets/secret-value.ts';

/**
 * Reads the QR code an element shows. A screenshot of the element works the same for `<img>`,
 * `<canvas>` and `<svg>` (and CSS backgrounds) and does not depend on the page's own scripts,
 * which could tamper with canvas APIs if the reading happened inside the page.
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

/** The element screenshot scrolls the element into view itself. */
export async function readQrFromElement(element: Locator, timeoutMs?: number): Promise<SecretValue<string>> {
  const png = await element.screenshot({
    type: 'png',
    animations: 'disabled',
    scale: 'device',
    ...(timeoutMs === undefined ? {} : { timeout: timeoutMs }),
  });
  return decodeQrPng(png);
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

export function decodeQrPng(png: Buffer): SecretValue<string> {
  const image = PNG.sync.read(png);
  const framed = withQuietZone(image.data, image.width, image.height);
  // Dark on light first, as nearly every page draws it; light on dark only when that finds nothing
  // ('invertFirst': jsqr's 'onlyInvert' never computes the inverted image it then reads).
  const found =
    jsQR(framed.data, framed.width, framed.height, { inversionAttempts: 'dontInvert' }) ??
    jsQR(framed.data, framed.width, framed.height, { inversionAttempts: 'invertFirst' });
  if (!found || found.data === '') throw new QrNotFoundError();
  return new SecretValue(found.data);
}

interface Pixels {
  data: Uint8ClampedArray;
  width: number;
  height: number;
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
