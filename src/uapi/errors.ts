/**
 * The two sides' errors. The daemon answers a failed operation with `errno=-N`
 * (wireguard-go's codes, UapiErrno) and throws UapiError to say which; a client reports
 * a failed operation as wg(8) does, with the positive errno (IpcError), which
 * text/errno.ts prints as glibc's strerror().
 */

/** Negative errno values the protocol answers with (wireguard-go's ipc error codes). */
export const UapiErrno = {
  Ok: 0,
  IO: -5,
  Invalid: -22,
  AddressInUse: -98,
  Protocol: -71,
  TimedOut: -110,
  /** wireguard-go's IpcErrorUnknown. */
  Unknown: -55,
} as const;

/** Thrown by the daemon's side: the errno to answer (negative) and a message for its log. */
export class UapiError extends Error {
  constructor(
    readonly errno: number,
    message: string,
  ) {
    super(message);
    this.name = 'UapiError';
  }
}

/** Thrown by the client: the (positive) errno wg would report. */
export class IpcError extends Error {
  constructor(readonly errno: number) {
    super(`errno ${errno}`);
    this.name = 'IpcError';
  }
}
