/** Every error code of the API envelope, with its HTTP status. */
export const ERROR_STATUS = {
  VALIDATION_ERROR: 400,
  AUTHENTICATION_REQUIRED: 401,
  PERMISSION_DENIED: 403,
  RESOURCE_NOT_FOUND: 404,
  CONFLICT: 409,
  INVALID_STATE_TRANSITION: 409,
  PRECONDITION_FAILED: 412,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMIT_EXCEEDED: 429,
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
} as const;

/** One of the contract's error codes. */
export type ErrorCode = keyof typeof ERROR_STATUS;

/** One problem of a rejected request, at a path of the body (dot-joined) or an event index. */
export interface ErrorDetail {
  path?: string;
  index?: number;
  message: string;
  [extra: string]: unknown;
}

/**
 * The one error class of the server. Routes and services throw it; the error handler maps it
 * (and anything else) onto the documented envelope in one place.
 *
 * @example
 * ```ts
 * throw new ApiError('RESOURCE_NOT_FOUND', `no feature flag '${key}'`);
 * ```
 */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: ErrorDetail[] | Record<string, unknown> | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(code: ErrorCode, message: string, details?: ErrorDetail[] | Record<string, unknown>, headers?: Record<string, string>) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.details = details;
    this.headers = headers;
  }
}

/** Shorthands for the common cases. */
export const notFound = (what: string, id: string) => new ApiError('RESOURCE_NOT_FOUND', `${what} '${id}' was not found`);
export const forbidden = (message = 'your role does not allow this action') => new ApiError('PERMISSION_DENIED', message);
export const conflict = (message: string, details?: Record<string, unknown>) => new ApiError('CONFLICT', message, details);
export const invalid = (message: string, details?: ErrorDetail[]) => new ApiError('VALIDATION_ERROR', message, details);
