/**
 * Errors with stable codes, in the style of undici and Node: callers branch on `code`,
 * never on message text. Codes are listed once here so docs/errors.md can mirror them.
 */
export const ErrorCode = {
  /** An argument had the wrong type or an impossible value. */
  InvalidArgument: 'FERRY_INVALID_ARGUMENT',
  /** A pool slot was released twice. */
  PoolDoubleRelease: 'FERRY_POOL_DOUBLE_RELEASE',
  /** A pool slot was used (written, passed on) after it was released. */
  PoolUseAfterRelease: 'FERRY_POOL_USE_AFTER_RELEASE',
  /** Slots were still held when the pool was checked for leaks. */
  PoolLeak: 'FERRY_POOL_LEAK',
  /** A system call in native/ failed; `errno` and `syscall` say which. */
  System: 'FERRY_SYSTEM',
  /** The native addon could not be loaded (not built?). */
  NativeMissing: 'FERRY_NATIVE_MISSING',
  /** A configuration file or value was rejected. */
  Config: 'FERRY_CONFIG',
  /** Two planes claimed the same prefix in the route table. */
  RouteConflict: 'FERRY_ROUTE_CONFLICT',
} as const;

type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

export class FerryError extends Error {
  readonly code: ErrorCodeValue;
  constructor(code: ErrorCodeValue, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FerryError';
    this.code = code;
  }
}

/** Shape of errors thrown by native/ (see native/src/addon.c throw_errno). */
export interface SystemError extends Error {
  /** errno name, e.g. "EPERM". */
  code: string;
  /** negative errno, as the UAPI protocol reports it. */
  errno: number;
  syscall: string;
}

export function isSystemError(err: unknown): err is SystemError {
  return err instanceof Error && typeof (err as SystemError).errno === 'number' && typeof (err as SystemError).syscall === 'string';
}
