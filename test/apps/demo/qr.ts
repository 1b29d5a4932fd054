import QRCode from 'qrcode';
import type { SecretValue } from '../../../core/secrets/secret-value.ts';
import type { QrFormat } from './hazards.ts';

export const QR_NAME = 'QR code for authenticator app setup';

const MODULE_PIXELS = 6;
const QUIET_ZONE_MODULES = 4;
const OPTIONS = { errorCorrectionLevel: 'M', margin: QUIET_ZONE_MODULES } as const;

/** PNG as a data URL in an <img>, the way most apps ship it. */
async function qrImage(text: string): Promise<string> {
  const dataUrl = await QRCode.toDataURL(text, { ...OPTIONS, scale: MODULE_PIXELS });
  return `<img id="totp-qr" src="${dataUrl}" alt="${QR_NAME}">`;
}

async function qrSvg(text: string): Promise<string> {
  const svg = await QRCode.toString(text, { ...OPTIONS, type: 'svg', width: 240 });
  return svg.trim().replace('<svg ', `<svg id="totp-qr" role="img" aria-label="${QR_NAME}" `);
}

/** Drawn in the browser from the module matrix, so only the pixels carry the key (no text to scrape). */
function qrCanvas(text: string, scriptNonce: string): string {
  const { size, data } = QRCode.create(text, OPTIONS).modules;
  const modules = Buffer.from(data).toString('base64');
  const pixels = (size + 2 * QUIET_ZONE_MODULES) * MODULE_PIXELS;
  return `<canvas id="totp-qr" role="img" aria-label="${QR_NAME}" width="${pixels}" height="${pixels}"></canvas>
<script nonce="${scriptNonce}">
(() => {
  const size = ${size}, unit = ${MODULE_PIXELS}, quiet = ${QUIET_ZONE_MODULES};
  const modules = Uint8Array.from(atob('${modules}'), (c) => c.charCodeAt(0));
  const ctx = document.getElementById('totp-qr').getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, ${pixels}, ${pixels});
  ctx.fillStyle = '#000';
  modules.forEach((dark, i) => {
    if (dark) ctx.fillRect((quiet + (i % size)) * unit, (quiet + Math.floor(i / size)) * unit, unit, unit);
  });
})();
</script>`;
}

export async function renderQr(uri: SecretValue<string>, format: QrFormat, scriptNonce: string): Promise<string> {
  const text = uri.reveal();
  if (format === 'svg') return qrSvg(text);
  if (format === 'canvas') return qrCanvas(text, scriptNonce);
  return qrImage(text);
}
