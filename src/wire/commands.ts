/**
 * ZMTP 3.x commands (RFC 23 / RFC 37). A command frame's body is
 *
 *   command-body = name-size name data;  name-size = 1 octet (1..255), name = ASCII
 *
 * and the commands the NULL mechanism and the engine use are:
 *   READY     data = metadata
 *   ERROR     data = reason-size (1 octet) reason (0..255 octets)
 *   PING      data = ttl (2 octets BE, deciseconds) context (0..16 octets)
 *   PONG      data = context
 *   SUBSCRIBE data = topic          (ZMTP 3.1)
 *   CANCEL    data = topic          (ZMTP 3.1)
 *   JOIN      data = group          (ZMTP 3.1, RFC 48: DISH to RADIO)
 *   LEAVE     data = group          (ZMTP 3.1, RFC 48)
 * Metadata is a sequence of properties: name-size (1 octet, 1..255) name, value-size
 * (4 octets BE) value.
 *
 * Parsers throw WireError for anything malformed a peer could send; encoders throw
 * RangeError for invalid arguments (a bug on our side, never peer input).
 */
import { WireError } from "./errors.js";
import { FLAG_COMMAND } from "./frame-decoder.js";
import { frameHeaderSize, writeFrameHeader } from "./frame-encoder.js";

export interface Command {
  name: string;
  data: Buffer;
}

/** Maximum PING / PONG context length. */
export const PING_CONTEXT_MAX = 16;

const EMPTY = Buffer.alloc(0);

function latin1(b: Uint8Array, start: number, end: number): string {
  let s = "";
  for (let i = start; i < end; i++) s += String.fromCharCode(b[i]!);
  return s;
}

function checkName(kind: string, name: string): void {
  if (name.length === 0 || name.length > 255 || !/^[\x21-\x7e]+$/.test(name)) {
    throw new RangeError(`invalid ZMTP ${kind} name ${JSON.stringify(name)} (1..255 printable ASCII characters)`);
  }
}

/** Splits a command body into name and data (a view). */
export function parseCommand(body: Buffer): Command {
  if (body.length === 0) {
    throw new WireError("ERR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED", "command frame is empty (no name length)");
  }
  const n = body[0]!;
  if (n === 0) throw new WireError("ERR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED", "command name is empty");
  if (1 + n > body.length) {
    throw new WireError("ERR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED", `command name length ${n} exceeds the ${body.length - 1} bytes that follow`);
  }
  return { name: latin1(body, 1, 1 + n), data: body.subarray(1 + n) };
}

function writeCommandBody(target: Buffer, at: number, name: string, data: Uint8Array): void {
  target[at] = name.length;
  target.write(name, at + 1, "latin1");
  target.set(data, at + 1 + name.length);
}

/** Command body only (no frame header). */
export function encodeCommandBody(name: string, data: Uint8Array = EMPTY): Buffer {
  checkName("command", name);
  const out = Buffer.allocUnsafe(1 + name.length + data.length);
  writeCommandBody(out, 0, name, data);
  return out;
}

/** Whole command frame (COMMAND flag, short or long header). */
export function encodeCommandFrame(name: string, data: Uint8Array = EMPTY): Buffer {
  checkName("command", name);
  const size = 1 + name.length + data.length;
  const out = Buffer.allocUnsafe(frameHeaderSize(size) + size);
  writeCommandBody(out, writeFrameHeader(out, 0, FLAG_COMMAND, size), name, data);
  return out;
}

/** Encodes metadata properties (READY, INITIATE, ...). Names: 1..255 chars of [A-Za-z0-9-_.+]. */
export function encodeMetadata(props: Iterable<[string, Uint8Array]>): Buffer {
  const list: [string, Uint8Array][] = [];
  let size = 0;
  for (const [name, value] of props) {
    if (name.length === 0 || name.length > 255 || !/^[A-Za-z0-9\-_.+]+$/.test(name)) {
      throw new RangeError(`invalid ZMTP property name ${JSON.stringify(name)} (1..255 characters of A-Z a-z 0-9 - _ . +)`);
    }
    if (value.length > 0xffff_ffff) throw new RangeError(`property ${name} value too long (${value.length} bytes)`);
    list.push([name, value]);
    size += 1 + name.length + 4 + value.length;
  }
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const [name, value] of list) {
    out[at] = name.length;
    out.write(name, at + 1, "latin1");
    at += 1 + name.length;
    out.writeUInt32BE(value.length, at);
    out.set(value, at + 4);
    at += 4 + value.length;
  }
  return out;
}

/** Parses metadata; keys as written (see getProperty for lookup), values are views. */
export function parseMetadata(data: Buffer): Map<string, Buffer> {
  const props = new Map<string, Buffer>();
  const end = data.length;
  let at = 0;
  while (at < end) {
    const n = data[at]!;
    if (n === 0) throw new WireError("ERR_ZMTP_INVALID_METADATA", `metadata property name is empty (at offset ${at})`);
    if (at + 1 + n > end) throw new WireError("ERR_ZMTP_INVALID_METADATA", `metadata property name truncated (at offset ${at})`);
    const name = latin1(data, at + 1, at + 1 + n);
    at += 1 + n;
    if (end - at < 4) throw new WireError("ERR_ZMTP_INVALID_METADATA", `metadata property ${name}: value length truncated`);
    const len = data.readUInt32BE(at);
    at += 4;
    if (len > end - at) {
      throw new WireError("ERR_ZMTP_INVALID_METADATA", `metadata property ${name}: value length ${len} exceeds the ${end - at} bytes remaining`);
    }
    props.set(name, data.subarray(at, at + len));
    at += len;
  }
  return props;
}

/** Case-insensitive property lookup (ZMTP property names are case-insensitive). */
export function getProperty(props: Map<string, Buffer>, name: string): Buffer | undefined {
  const exact = props.get(name);
  if (exact !== undefined) return exact;
  const lower = name.toLowerCase();
  for (const [k, v] of props) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** ERROR command frame. The reason is UTF-8 (ASCII in practice), cut to 255 bytes. */
export function encodeError(reason: string): Buffer {
  const r = Buffer.from(reason, "utf8");
  const n = Math.min(r.length, 255);
  const data = Buffer.allocUnsafe(1 + n);
  data[0] = n;
  r.copy(data, 1, 0, n);
  return encodeCommandFrame("ERROR", data);
}

/** Reason of an ERROR command's data. */
export function parseErrorReason(data: Buffer): string {
  if (data.length === 0) throw new WireError("ERR_ZMTP_MALFORMED_COMMAND_ERROR", "ERROR command has no reason length");
  const n = data[0]!;
  if (1 + n > data.length) {
    throw new WireError("ERR_ZMTP_MALFORMED_COMMAND_ERROR", `ERROR reason length ${n} exceeds the ${data.length - 1} bytes that follow`);
  }
  return data.toString("utf8", 1, 1 + n);
}

/** PING command frame. */
export function encodePing(ttlDeciseconds: number, context: Uint8Array = EMPTY): Buffer {
  if (!Number.isInteger(ttlDeciseconds) || ttlDeciseconds < 0 || ttlDeciseconds > 0xffff) {
    throw new RangeError(`invalid PING TTL ${ttlDeciseconds} (0..65535 deciseconds)`);
  }
  if (context.length > PING_CONTEXT_MAX) throw new RangeError(`PING context too long (${context.length} > ${PING_CONTEXT_MAX} bytes)`);
  const data = Buffer.allocUnsafe(2 + context.length);
  data.writeUInt16BE(ttlDeciseconds, 0);
  data.set(context, 2);
  return encodeCommandFrame("PING", data);
}

/** TTL (deciseconds) and context (a view, at most 16 bytes) of a PING command's data. */
export function parsePing(data: Buffer): { ttl: number; context: Buffer } {
  if (data.length < 2) throw new WireError("ERR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED", `PING command too short (${data.length} bytes, need 2)`);
  return { ttl: data.readUInt16BE(0), context: data.subarray(2, Math.min(data.length, 2 + PING_CONTEXT_MAX)) };
}

/** PONG command frame echoing a PING's context. */
export function encodePong(context: Uint8Array): Buffer {
  if (context.length > PING_CONTEXT_MAX) throw new RangeError(`PONG context too long (${context.length} > ${PING_CONTEXT_MAX} bytes)`);
  return encodeCommandFrame("PONG", context);
}

/** SUBSCRIBE command frame (ZMTP 3.1). */
export function encodeSubscribe(topic: Uint8Array): Buffer {
  return encodeCommandFrame("SUBSCRIBE", topic);
}

/** CANCEL command frame (ZMTP 3.1). */
export function encodeCancel(topic: Uint8Array): Buffer {
  return encodeCommandFrame("CANCEL", topic);
}

/** The longest group name RADIO/DISH carry (libzmq's ZMQ_GROUP_MAX_LENGTH). */
export const GROUP_MAX_LENGTH = 255;

/** The group of a JOIN or LEAVE command's data; a group longer than 255 bytes is malformed. */
export function parseGroupCommand(name: string, data: Buffer): Buffer {
  if (data.length > GROUP_MAX_LENGTH) {
    throw new WireError("ERR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED", `${name} group is ${data.length} bytes (at most ${GROUP_MAX_LENGTH})`);
  }
  return data;
}
