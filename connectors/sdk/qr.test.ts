import QRCode from 'qrcode';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { decodeQrPng, QrNotFoundError } from './qr.ts';

/** The width of each picture handed to jsqr, to tell which passes ran. */
const passes = vi.hoisted(() => [] as number[]);
vi.mock('jsqr', async (importOriginal) => {
  const jsQR = ((await importOriginal()) as { default: (...args: unknown[]) => unknown }).default;
  return {
    default: (data: unknown, width: number, ...rest: unknown[]) => (passes.push(width), jsQR(data, width, ...rest)),
  };
});

const URI = 'otpauth://totp/Demo%20SaaS:a%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Demo%20SaaS';

async function png(options: QRCode.QRCodeToBufferOptions): Promise<Buffer> {
  return QRCode.toBuffer(URI, { margin: 0, width: 180, ...options });
}

describe('decodeQrPng', () => {
  beforeEach(() => {
    passes.length = 0;
  });

  it('reads a dark-on-light code', async () => {
    expect(decodeQrPng(await png({})).reveal()).toBe(URI);
  });

  it('reads a light-on-dark code (with its own dark quiet zone), which the first pass does not try', async () => {
    expect(decodeQrPng(await png({ margin: 4, color: { dark: '#ffffffff', light: '#000000ff' } })).reveal()).toBe(URI);
  });

  it('reads a code drawn on a transparent background as if on white', async () => {
    expect(decodeQrPng(await png({ color: { dark: '#000000ff', light: '#00000000' } })).reveal()).toBe(URI);
  });

  it('reads a big picture of a code at half its size, in one pass', async () => {
    const big = await QRCode.toBuffer(URI, { margin: 4, scale: 6 });
    const side = big.readUInt32BE(16);

    expect(decodeQrPng(big).reveal()).toBe(URI);
    expect(side).toBeGreaterThanOrEqual(260);
    // The quiet zone adds 16 px a side before halving.
    expect(passes).toEqual([Math.floor((side + 32) / 2)]);
  });

  it('reads a big picture whose modules are too small to halve at full size', async () => {
    const fine = await QRCode.toBuffer(URI, { margin: 120, scale: 1 });

    const side = fine.readUInt32BE(16);

    expect(decodeQrPng(fine).reveal()).toBe(URI);
    expect(side).toBeGreaterThanOrEqual(260);
    expect(passes).toEqual([Math.floor((side + 32) / 2), side + 32]);
  });

  it('refuses an image without a code', async () => {
    const blank = await QRCode.toBuffer('x', { color: { dark: '#ffffffff', light: '#ffffffff' } });
    expect(() => decodeQrPng(blank)).toThrow(QrNotFoundError);
  });
});
