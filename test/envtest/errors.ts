/** Why the development control plane could not start or serve; one CamelCase word each. */
export type ControlPlaneErrorReason = 'BinariesMissing' | 'CertificateToolFailed' | 'ProcessExited' | 'StartTimeout';

/** A control-plane failure whose message says what to do next. */
export class ControlPlaneError extends Error {
  readonly reason: ControlPlaneErrorReason;

  constructor(reason: ControlPlaneErrorReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ControlPlaneError';
    this.reason = reason;
  }
}
