/**
 * One factory for every error zmq-ts raises. Codes and errno numbers are libzmq's
 * (Linux values), messages are the ones zeromq.js users see, so code that checks
 * `err.code === "EAGAIN"` or matches on a message keeps working.
 */

export interface ZmqError extends Error {
  code: string;
  errno: number;
  address?: string;
}

const errnos: Record<string, [number, string]> = {
  EINVAL: [22, "Invalid argument"],
  EPROTONOSUPPORT: [93, "Protocol not supported"],
  ENOENT: [2, "No such endpoint"],
  EADDRINUSE: [98, "Address already in use"],
  EADDRNOTAVAIL: [99, "Cannot assign requested address"],
  EAGAIN: [11, "Operation was not possible or timed out"],
  EFSM: [156384763, "Operation cannot be accomplished in current state"],
  EHOSTUNREACH: [113, "Host unreachable"],
  EBADF: [9, "Socket is closed"],
  EBUSY: [16, "Device or resource busy"],
  EMSGSIZE: [90, "Message too long"],
  ENOTSUP: [95, "Operation not supported"],
  ENOCOMPATPROTO: [156384757, "The protocol is not compatible with the socket type"],
  ETERM: [156384765, "Context was terminated"],
  EMFILE: [24, "Too many open file descriptors"],
  ECONNREFUSED: [111, "Connection refused"],
  EACCES: [13, "Permission denied"],
  EPROTO: [71, "Protocol error"],
  ENODEV: [19, "No such device"],
};

/** Builds an Error carrying libzmq's code and errno; `message` overrides the default text. */
export function zmqError(code: keyof typeof errnos | string, message?: string, address?: string): ZmqError {
  const known = errnos[code];
  const err = new Error(message ?? (known ? known[1] : code)) as ZmqError;
  err.code = code;
  err.errno = known ? known[0] : 0;
  if (address !== undefined) err.address = address;
  return err;
}

/** Maps a Node system error (from net, fs) to ours, keeping the code. */
export function fromSystemError(e: NodeJS.ErrnoException, address?: string): ZmqError {
  const code = e.code ?? "EINVAL";
  const known = errnos[code];
  const err = zmqError(code, known ? known[1] : e.message, address);
  if (!known && typeof e.errno === "number") err.errno = Math.abs(e.errno);
  return err;
}

export const isZmqError = (e: unknown, code?: string): e is ZmqError =>
  e instanceof Error && typeof (e as ZmqError).code === "string" && (code === undefined || (e as ZmqError).code === code);
