// One error type with a closed set of codes: what rejected messages record and API errors return.

/** Why a message was refused; stored in `rejections.reason` and counted in metrics. */
export const REJECTION_CODES = [
  'MALFORMED',
  'PAYLOAD_TOO_LARGE',
  'SCHEMA_INVALID',
  'ALG_NOT_ALLOWED',
  'HEADER_NOT_ALLOWED',
  'UNKNOWN_KEY',
  'KEY_REVOKED',
  'SIGNATURE_INVALID',
  'SUBJECT_MISMATCH',
  'REPLAY',
  'STALE_SEQ',
  'SEQ_JUMP',
  'FUTURE_TIMESTAMP',
  'INTERNAL_ERROR',
] as const;
export type RejectionCode = (typeof REJECTION_CODES)[number];

/** API error codes, each with its HTTP status. */
export const API_ERRORS = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 422,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;
export type ApiErrorCode = keyof typeof API_ERRORS;

export type AppErrorCode = RejectionCode | ApiErrorCode;

export class AppError extends Error {
  readonly code: AppErrorCode;
  constructor(code: AppErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AppError';
    this.code = code;
  }
}

/** A message refused by the ingest pipeline; `authenticated` means its signature verified. */
export class Rejection extends AppError {
  declare readonly code: RejectionCode;
  constructor(code: RejectionCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'Rejection';
  }
}

/** A thrown value as the Rejection a refused message records: itself, or INTERNAL_ERROR around anything else. */
export function asRejection(e: unknown): Rejection {
  return e instanceof Rejection
    ? e
    : new Rejection('INTERNAL_ERROR', `unexpected: ${String(e)}`, { cause: e });
}

export function isRejection(e: unknown): e is Rejection {
  return e instanceof Rejection;
}
