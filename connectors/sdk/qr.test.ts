import QRCode from 'qrcode';
import { describe, expect, it } from 'vitest';
import { decodeQrPng, QrNotFoundError } from './qr.ts';

const URI = 'otpauth://totp/Demo%20SaaS:a%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Demo%20SaaS';

async function png(options: QRCode.QRCodeToBufferOptions): Promise<Buffer> {
  return QRCode.toBuffer(URI, { margin: 0, width: 180, ...options });
}

describe('decodeQrPng', () => {
  it('reads a dark-on-light code', async () => {
    expect(decodeQrPng(await png({})).reveal()).toBe(URI);
  });

  it('reads a light-on-dark code (with its own dark quiet zone), which the first pass does not try', async () => {
    expect(decodeQrPng(await png({ margin: 4, color: { dark: '#ffffffff', light: '#000000ff' } })).reveal()).toBe(URI);
  });

  it('reads a code drawn on a transparent background as if on white', async () => {
    expect(decodeQrPng(await png({ color: { dark: '#000000ff', light: '#00000000' } })).reveal()).toBe(URI);
  });

  it('refuses an image without a code', async () => {
    const blank = await QRCode.toBuffer('x', { color: { dark: '#ffffffff', light: '#ffffffff' } });
    expect(() => decodeQrPng(blank)).toThrow(QrNotFoundError);
  });
});
