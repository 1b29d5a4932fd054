import { status } from '@grpc/grpc-js';
import { RpcError } from './rpc-error.ts';

/** `projects/P` or `projects/P/locations/L`: where secrets are created and listed. */
export function parseParent(parent: string): string {
  if (/^projects\/[^/]+(\/locations\/[^/]+)?$/.test(parent)) return parent;
  throw new RpcError(status.INVALID_ARGUMENT, `Invalid parent [${parent}]; expected projects/*[/locations/*].`);
}

export interface SecretName {
  readonly secret: string;
  readonly parent: string;
}

export function parseSecretName(name: string): SecretName {
  const match = /^(projects\/[^/]+(?:\/locations\/[^/]+)?)\/secrets\/([^/]+)$/.exec(name);
  if (!match?.[1]) throw new RpcError(status.INVALID_ARGUMENT, `Invalid secret name [${name}].`);
  return { secret: name, parent: match[1] };
}

export interface VersionName {
  readonly secret: string;
  /** A version number, `latest` or an alias. */
  readonly version: string;
}

export function parseVersionName(name: string): VersionName {
  const match = /^(projects\/[^/]+(?:\/locations\/[^/]+)?\/secrets\/[^/]+)\/versions\/([^/]+)$/.exec(name);
  if (!match?.[1] || !match[2]) throw new RpcError(status.INVALID_ARGUMENT, `Invalid secret version name [${name}].`);
  return { secret: match[1], version: match[2] };
}
