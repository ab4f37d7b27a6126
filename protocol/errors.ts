/**
 * The one error class of Faultline. Callers match on `code`, never on the message.
 * Run outcomes (deviated, aborted, ...) are not errors and never use this class.
 * Every code is documented in docs/errors.md; a test keeps the two in step.
 */
export const ERROR_CODES = {
  INVALID_INPUT: 400,
  INVALID_EXPERIMENT: 400,
  UNKNOWN_FAULT_TYPE: 400,
  UNSUPPORTED: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  UPSTREAM_UNAVAILABLE: 502,
  UPSTREAM_TIMEOUT: 504,
  FAULT_APPLY_FAILED: 500,
  FAULT_REVERT_FAILED: 500,
  LEASE_EXPIRED: 410,
  UNAUTHORIZED: 401,
  HALTED: 423,
  UNREACHABLE: 503,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The JSON body of every HTTP error Faultline answers with. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details: Record<string, unknown>;
}

export class FaultlineError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'FaultlineError';
    this.code = code;
    this.details = details;
  }

  /** HTTP status that goes with this error's code. */
  get statusCode(): number {
    return ERROR_CODES[this.code];
  }

  toBody(): ErrorBody {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export function isFaultlineError(err: unknown, code?: ErrorCode): err is FaultlineError {
  return err instanceof FaultlineError && (code === undefined || err.code === code);
}
