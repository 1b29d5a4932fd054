/**
 * The audience code-service tokens are minted for (TokenRequest `spec.audiences`) and reviewed
 * against (TokenReview `spec.audiences`). A token for the API server's own audience is refused, so
 * a token stolen from a pod, or one a user sends to any other service, cannot get codes. The
 * operator (--code-service-audience) and kubectl mfa (--audience) default to this one value.
 */
export const DEFAULT_CODE_SERVICE_AUDIENCE = 'mfa-operator.io/code-service';
