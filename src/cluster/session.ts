/**
 * The Jupyter wire format that IPython parallel speaks, signed with HMAC-SHA256:
 *
 *   [ identities..., "<IDS|MSG>", signature, header, parent_header, metadata, content, buffers... ]
 *
 * The signature is the hex HMAC of the four JSON frames, with the cluster's key. A
 * message whose signature does not match (or is missing), or whose frames are not what
 * the format says, makes `deserialize` throw a ClusterError with code EPROTO: the
 * caller drops and logs it, never acts on it. Buffers are passed through as received
 * (views, no copy).
 */
import { createHmac, createSecretKey, randomUUID, timingSafeEqual, type KeyObject } from "node:crypto";
import { userInfo } from "node:os";
import { ClusterError } from "./errors.js";

export const DELIMITER = Buffer.from("<IDS|MSG>");
export const PROTOCOL_VERSION = "5.3";

export interface MessageHeader {
  msg_id: string;
  msg_type: string;
  username: string;
  session: string;
  date: string;
  version: string;
  [field: string]: unknown;
}

export type JsonObject = Record<string, unknown>;

export interface Message<C extends JsonObject = JsonObject> {
  /** Routing frames before the delimiter (ROUTER ids, PUB topics). */
  identities: Buffer[];
  header: MessageHeader;
  /** The header of the message this one answers, or {}. */
  parent_header: Partial<MessageHeader>;
  metadata: JsonObject;
  content: C;
  /** Out-of-band binary frames after the content. */
  buffers: Buffer[];
}

export interface BuildOptions {
  identities?: ReadonlyArray<Buffer | string>;
  /** The message answered: its header becomes parent_header. */
  parent?: Partial<MessageHeader> | Message;
  metadata?: JsonObject;
  buffers?: ReadonlyArray<Buffer | Uint8Array>;
  /** Fields merged into the header (msg_id, for one). */
  header?: Partial<MessageHeader>;
}

export interface SessionOptions {
  /** The HMAC key; empty means unsigned (Jupyter's convention), which the cluster never uses itself. */
  key: string | Uint8Array;
  username?: string;
  /** This session's id (default: a new uuid). */
  session?: string;
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return "zmq-ts";
  }
}

const isObject = (v: unknown): v is JsonObject => v !== null && typeof v === "object" && !Array.isArray(v);

/** "{}", the parent_header / metadata / content of many messages: one frame, shared (frames are never written to). */
const EMPTY_OBJECT = Buffer.from("{}");
const PART_NAMES = ["header", "parent_header", "metadata", "content"] as const;

let lastMs = -1;
let lastIso = "";
/** The ISO date of the current millisecond (new Date().toISOString(), made once per millisecond). */
export function isoNow(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastIso = new Date(now).toISOString();
  }
  return lastIso;
}

function jsonFrame(v: unknown): Buffer {
  if (v === undefined) return EMPTY_OBJECT;
  if (isObject(v)) {
    let empty = true;
    for (const _ in v) {
      empty = false;
      break;
    }
    if (empty && Object.getPrototypeOf(v) === Object.prototype) return EMPTY_OBJECT;
  }
  return Buffer.from(JSON.stringify(v), "utf8");
}

function delimiterAt(frames: ReadonlyArray<Buffer>): number {
  const n = DELIMITER.length;
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i]!;
    if (f.length === n && f[0] === 0x3c && f.equals(DELIMITER)) return i;
  }
  return -1;
}

export class Session {
  readonly key: Buffer;
  readonly session: string;
  readonly username: string;
  /** How many messages deserialize refused (bad signature or malformed). */
  rejected = 0;
  /** msg_ids are `<a uuid of this session>_<counter>`, as jupyter_client makes them: unique, and cheaper than a uuid each. */
  readonly #idBase: string;
  #count = 0;
  /** The header's JSON between msg_type and date, the same in every message of this session. */
  readonly #headerMiddle: string;
  /** The key, prepared once for createHmac. */
  readonly #hmacKey: KeyObject | null;

  constructor(options: SessionOptions) {
    this.key = typeof options.key === "string" ? Buffer.from(options.key, "utf8") : Buffer.from(options.key);
    this.session = options.session ?? randomUUID();
    this.username = options.username ?? safeUser();
    this.#idBase = randomUUID();
    this.#hmacKey = this.key.length > 0 ? createSecretKey(this.key) : null;
    this.#headerMiddle = `,"username":${JSON.stringify(this.username)},"session":${JSON.stringify(this.session)},"date":`;
  }

  /** A new header of this session. */
  header(msgType: string, extra?: Partial<MessageHeader>): MessageHeader {
    const h: MessageHeader = {
      msg_id: `${this.#idBase}_${++this.#count}`,
      msg_type: msgType,
      username: this.username,
      session: this.session,
      date: isoNow(),
      version: PROTOCOL_VERSION,
    };
    return extra === undefined ? h : Object.assign(h, extra);
  }

  /** The header's JSON: a template for the usual six fields of this session, JSON.stringify otherwise. */
  #headerJson(h: MessageHeader): Buffer {
    let n = 0;
    for (const _ in h) n++;
    if (n === 6 && h.username === this.username && h.session === this.session && h.version === PROTOCOL_VERSION
      && typeof h.msg_id === "string" && typeof h.msg_type === "string" && typeof h.date === "string") {
      return Buffer.from(`{"msg_id":${JSON.stringify(h.msg_id)},"msg_type":${JSON.stringify(h.msg_type)}${this.#headerMiddle}${JSON.stringify(h.date)},"version":"${PROTOCOL_VERSION}"}`, "utf8");
    }
    return Buffer.from(JSON.stringify(h), "utf8");
  }

  /** The hex signature of the four JSON frames ("" when the key is empty). */
  sign(parts: ReadonlyArray<Uint8Array>): string {
    if (this.#hmacKey === null) return "";
    const h = createHmac("sha256", this.#hmacKey);
    for (let i = 0; i < parts.length; i++) h.update(parts[i]!);
    return h.digest("hex");
  }

  /** The frames of a new message; returns the frames and its header. */
  build(msgType: string, content: JsonObject, options: BuildOptions = {}): { frames: Buffer[]; header: MessageHeader } {
    const header = options.header === undefined ? this.header(msgType) : this.header(msgType, options.header);
    const p = options.parent;
    const parent = p === undefined ? undefined : "header" in p && isObject(p.header) ? (p as Message).header : p;
    const jsons = [this.#headerJson(header), jsonFrame(parent), jsonFrame(options.metadata), jsonFrame(content)];
    const frames: Buffer[] = [];
    const ids = options.identities;
    if (ids) for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      frames.push(typeof id === "string" ? Buffer.from(id) : id);
    }
    frames.push(DELIMITER, Buffer.from(this.sign(jsons), "latin1"), jsons[0]!, jsons[1]!, jsons[2]!, jsons[3]!);
    const bufs = options.buffers;
    if (bufs) for (let i = 0; i < bufs.length; i++) {
      const b = bufs[i]!;
      frames.push(Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));
    }
    return { frames, header };
  }

  /**
   * Parses and verifies a received message. Throws ClusterError EPROTO (and counts it in
   * `rejected`) for anything malformed or wrongly signed.
   */
  deserialize(frames: ReadonlyArray<Buffer>): Message {
    try {
      return this.#parse(frames);
    } catch (e) {
      this.rejected++;
      throw e;
    }
  }

  /**
   * Checks a received message's shape and signature without parsing its JSON; returns
   * the index of its delimiter. For a receiver that reads only some parts
   * (`part()`): it must still refuse what fails here. Throws (and counts) as deserialize.
   */
  verify(frames: ReadonlyArray<Buffer>): number {
    try {
      return this.#verify(frames);
    } catch (e) {
      this.rejected++;
      throw e;
    }
  }

  /**
   * One JSON part of a message verify() accepted (0 header, 1 parent_header, 2 metadata,
   * 3 content), which must be an object (a header: with msg_id and msg_type). Throws
   * (and counts) EPROTO otherwise.
   */
  part(frames: ReadonlyArray<Buffer>, at: number, index: 0 | 1 | 2 | 3): JsonObject {
    try {
      return this.#part(frames, at, index);
    } catch (e) {
      this.rejected++;
      throw e;
    }
  }

  #verify(frames: ReadonlyArray<Buffer>): number {
    const at = delimiterAt(frames);
    if (at < 0) throw new ClusterError("EPROTO", "not a cluster message: no <IDS|MSG> delimiter");
    if (frames.length < at + 6) throw new ClusterError("EPROTO", `malformed message: ${frames.length - at - 1} frames after the delimiter, need at least 5`);
    if (this.key.length > 0) {
      const signature = frames[at + 1]!;
      const expected = Buffer.from(this.sign([frames[at + 2]!, frames[at + 3]!, frames[at + 4]!, frames[at + 5]!]), "latin1");
      if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) {
        throw new ClusterError("EPROTO", "message dropped: bad signature");
      }
    }
    return at;
  }

  #part(frames: ReadonlyArray<Buffer>, at: number, index: 0 | 1 | 2 | 3): JsonObject {
    const b = frames[at + 2 + index]!;
    let v: unknown;
    if (b.length === 2 && b[0] === 0x7b && b[1] === 0x7d) v = {};
    else {
      try {
        v = JSON.parse(b.toString("utf8"));
      } catch {
        throw new ClusterError("EPROTO", `malformed message: frame ${PART_NAMES[index]} is not JSON`);
      }
    }
    if (index === 0) {
      if (!isObject(v) || typeof v.msg_id !== "string" || typeof v.msg_type !== "string") {
        throw new ClusterError("EPROTO", "malformed message: header lacks msg_id / msg_type");
      }
    } else if (!isObject(v)) {
      throw new ClusterError("EPROTO", "malformed message: parent_header, metadata and content must be objects");
    }
    return v;
  }

  #parse(frames: ReadonlyArray<Buffer>): Message {
    const at = this.#verify(frames);
    const header = this.#part(frames, at, 0);
    const parent = this.#part(frames, at, 1);
    const metadata = this.#part(frames, at, 2);
    const content = this.#part(frames, at, 3);
    return {
      identities: frames.slice(0, at),
      header: header as MessageHeader,
      parent_header: parent as Partial<MessageHeader>,
      metadata,
      content,
      buffers: frames.slice(at + 6),
    };
  }
}
