import { zmqError } from "../errors.js";
import { GROUP_MAX_LENGTH } from "../wire/commands.js";

/** A RADIO/DISH group as a Map key: its bytes, one char per byte. */
export const groupKey = (group: Uint8Array): string => Buffer.from(group.buffer, group.byteOffset, group.byteLength).toString("latin1");

/** A group name as the application gives it: a string (UTF-8) or bytes, at most 255 bytes (else EINVAL, as libzmq). */
export function toGroup(value: unknown): Buffer {
  let bytes: Buffer;
  if (typeof value === "string") bytes = Buffer.from(value, "utf8");
  else if (Buffer.isBuffer(value)) bytes = Buffer.from(value);
  else if (ArrayBuffer.isView(value)) bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  else throw zmqError("EINVAL", "Invalid argument: a group is a string or a Buffer");
  if (bytes.length > GROUP_MAX_LENGTH) {
    throw zmqError("EINVAL", `Invalid argument: group is ${bytes.length} bytes (at most ${GROUP_MAX_LENGTH})`);
  }
  return bytes;
}

/** Whether a pipe is a udp one: a RADIO sends it everything, the DISH at the far end filters. */
export const isUdpPipe = (endpoint: string): boolean => endpoint.startsWith("udp://");
