/** One entry of an error envelope's `details`: where the problem is and what it is. */
export interface ErrorDetail {
  path?: string;
  message: string;
  [extra: string]: unknown;
}

/**
 * An API error in the server's envelope, `{"error": {code, message, details, request_id}}`.
 * Screens show `message`, and place each `details` entry beside the field its `path` names.
 *
 * @example
 * ```ts
 * if (err instanceof ApiError && err.status === 412) showConflict(err);
 * ```
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: ErrorDetail[];
  readonly requestId: string | null;

  constructor(status: number, code: string, message: string, details: unknown, requestId: string | null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = Array.isArray(details) ? (details as ErrorDetail[]) : [];
    this.requestId = requestId;
  }

  /** The messages of details whose path is `path` or lies under it (`rules.0` matches `rules.0.when.attr`). */
  at(path: string): string[] {
    return this.details.filter((d) => d.path === path || (d.path ?? '').startsWith(`${path}.`)).map((d) => d.message);
  }
}

/** Turns a non-2xx response body into an {@link ApiError}. */
export function toApiError(status: number, body: unknown, requestId: string | null): ApiError {
  const e = (body as { error?: { code?: string; message?: string; details?: unknown; request_id?: string } } | null)?.error;
  if (e === undefined || e === null) return new ApiError(status, 'INTERNAL_ERROR', `the server answered ${status}`, null, requestId);
  return new ApiError(
    status,
    e.code ?? 'INTERNAL_ERROR',
    e.message ?? `the server answered ${status}`,
    e.details,
    e.request_id ?? requestId,
  );
}
