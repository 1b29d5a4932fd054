/** Why the local cluster could not start, serve or be torn down; one CamelCase word each. */
export type ClusterErrorReason =
  | 'NotRoot'
  | 'CgroupsUnavailable'
  | 'HostToolMissing'
  | 'NodeBinariesMissing'
  | 'ClusterBusy'
  | 'HostCommandFailed'
  | 'NodeNotReady'
  | 'ImageLoadFailed';

/** A local-cluster failure whose message says what to do next. */
export class ClusterError extends Error {
  readonly reason: ClusterErrorReason;

  constructor(reason: ClusterErrorReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClusterError';
    this.reason = reason;
  }
}
