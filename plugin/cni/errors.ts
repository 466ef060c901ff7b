// CNI error objects (spec §5 "Error") and the codes this plugin returns.

/** Well-known codes from the CNI spec, plus this plugin's own codes (>= 100). */
export const ErrorCode = {
  IncompatibleVersion: 1,
  UnsupportedField: 2,
  UnknownContainer: 3,
  InvalidEnvironment: 4,
  IoFailure: 5,
  DecodeFailure: 6,
  InvalidConfig: 7,
  TryAgainLater: 11,
  NotAvailable: 50,
  LimitedConnectivity: 51,
  /** A delegate plugin failed (the message names network and delegate). */
  DelegateFailed: 100,
  /** The Kubernetes API could not be used. */
  ApiFailure: 101,
  /** The pod named in CNI_ARGS does not exist. */
  PodNotFound: 102,
  /** CHECK found an attachment missing or broken. */
  AttachmentBroken: 103,
} as const;

export class CniError extends Error {
  readonly code: number;
  readonly details: string;
  constructor(code: number, msg: string, details = '') {
    super(msg);
    this.code = code;
    this.details = details;
  }

  toJSON(cniVersion: string): { cniVersion: string; code: number; msg: string; details?: string } {
    return { cniVersion, code: this.code, msg: this.message, ...(this.details ? { details: this.details } : {}) };
  }
}

/** Any thrown value as a CniError (unexpected exceptions become code 999 so they are never mistaken for success). */
export function asCniError(err: unknown): CniError {
  if (err instanceof CniError) return err;
  if (err instanceof Error) return new CniError(999, err.message, err.stack ?? '');
  return new CniError(999, String(err));
}
