import type { ServiceError, status } from '@grpc/grpc-js';
import { Metadata } from '@grpc/grpc-js';

/** A gRPC failure the handlers throw; the server turns it into the call's status. */
export class RpcError extends Error {
  readonly code: status;

  constructor(code: status, message: string) {
    super(message);
    this.name = 'RpcError';
    this.code = code;
  }

  toServiceError(): Partial<ServiceError> {
    return { code: this.code, details: this.message, message: this.message, metadata: new Metadata() };
  }
}
