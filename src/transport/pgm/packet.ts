/**
 * PGM packets (RFC 3208) as OpenPGM puts them in UDP for `epgm://`: encode and decode,
 * no I/O. Only what libzmq's PGM transport exchanges is modelled: SPM, SPMR, ODATA,
 * RDATA, NAK, NNAK, NCF, with the options OPT_LENGTH, OPT_NAK_LIST, OPT_FIN and (on
 * receipt only) OPT_FRAGMENT. Network-layer addresses (NLAs) are IPv4 only.
 */

export const PGM_SPM = 0x00;
export const PGM_ODATA = 0x04;
export const PGM_RDATA = 0x05;
export const PGM_NAK = 0x08;
export const PGM_NNAK = 0x09;
export const PGM_NCF = 0x0a;
export const PGM_SPMR = 0x0c;

/** Header option bits. */
export const OPT_PRESENT = 0x01;
export const OPT_NETWORK = 0x02;
export const OPT_PARITY = 0x80;

/** Option types; the high bit of the last option is OPT_END. */
export const OPT_LENGTH = 0x00;
export const OPT_FRAGMENT = 0x01;
export const OPT_NAK_LIST = 0x02;
export const OPT_FIN = 0x0e;
export const OPT_END = 0x80;

export const HEADER_SIZE = 16;
/** AFI 1: IPv4. */
const AFI_IPV4 = 1;

export interface PgmHeader {
  /** Source port of the packet (the TSI's port downstream, the data-destination port upstream). */
  sport: number;
  dport: number;
  /** Global source identifier: 6 bytes. */
  gsi: Buffer;
}

export type PgmPacket =
  | (PgmHeader & { type: "spm"; sqn: number; trail: number; lead: number; nla: string; fin: boolean })
  | (PgmHeader & { type: "spmr" })
  | (PgmHeader & {
      type: "odata" | "rdata";
      sqn: number;
      trail: number;
      data: Buffer;
      /** OPT_FRAGMENT: this TSDU is part of a larger APDU. */
      fragment?: { firstSqn: number; offset: number; apduLength: number };
    })
  | (PgmHeader & { type: "nak" | "nnak" | "ncf"; sqns: number[]; source: string; group: string });

const typeCodes: Record<PgmPacket["type"], number> = {
  spm: PGM_SPM, spmr: PGM_SPMR, odata: PGM_ODATA, rdata: PGM_RDATA, nak: PGM_NAK, nnak: PGM_NNAK, ncf: PGM_NCF,
};

/** The Internet checksum as OpenPGM folds it: the one's complement of the sum, except that a sum of 0xffff stays 0xffff. */
export function pgmChecksum(buf: Uint8Array): number {
  let sum = 0;
  const n = buf.length & ~1;
  for (let i = 0; i < n; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (buf.length & 1) sum += buf[buf.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum === 0xffff ? sum : ~sum & 0xffff;
}

function writeNla(buf: Buffer, at: number, ip: string): number {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255))) throw new RangeError(`not an IPv4 address: ${ip}`);
  buf.writeUInt16BE(AFI_IPV4, at);
  buf.writeUInt16BE(0, at + 2);
  for (let i = 0; i < 4; i++) buf[at + 4 + i] = parts[i]!;
  return at + 8;
}

function readNla(buf: Buffer, at: number): { ip: string; next: number } | null {
  if (at + 4 > buf.length) return null;
  const afi = buf.readUInt16BE(at);
  if (afi !== AFI_IPV4 || at + 8 > buf.length) return null; // IPv6 (AFI 2) is not carried
  return { ip: `${buf[at + 4]}.${buf[at + 5]}.${buf[at + 6]}.${buf[at + 7]}`, next: at + 8 };
}

/** Encodes a packet with its checksum. */
export function encodePacket(p: PgmPacket): Buffer {
  let body: number; // size of the type-specific part
  let options = 0; // size of the options (with OPT_LENGTH), 0 for none
  let optionBits = 0;
  let tsdu = 0;
  switch (p.type) {
    case "spm":
      body = 20;
      if (p.fin) options = 4 + 4;
      break;
    case "spmr":
      body = 0;
      break;
    case "odata":
    case "rdata":
      body = 8;
      tsdu = p.data.length;
      if (p.fragment) options = 4 + 16;
      break;
    default:
      body = 20;
      if (p.sqns.length < 1 || p.sqns.length > 63) throw new RangeError("a NAK lists 1 to 63 sequence numbers");
      if (p.sqns.length > 1) {
        options = 4 + 4 + 4 * (p.sqns.length - 1);
        optionBits |= OPT_NETWORK;
      }
  }
  if (options > 0) optionBits |= OPT_PRESENT;
  const buf = Buffer.allocUnsafe(HEADER_SIZE + body + options + tsdu);
  buf.writeUInt16BE(p.sport, 0);
  buf.writeUInt16BE(p.dport, 2);
  buf[4] = typeCodes[p.type];
  buf[5] = optionBits;
  buf.writeUInt16BE(0, 6);
  p.gsi.copy(buf, 8, 0, 6);
  buf.writeUInt16BE(tsdu, 14);
  let at = HEADER_SIZE;
  /** OPT_LENGTH, then the header of the packet's one option (`length` bytes with its body, written next). */
  const writeOptions = (type: number, length: number) => {
    buf[at] = OPT_LENGTH;
    buf[at + 1] = 4;
    buf.writeUInt16BE(options, at + 2);
    buf[at + 4] = type | OPT_END;
    buf[at + 5] = length;
    buf[at + 6] = 0;
    buf[at + 7] = 0;
    at += 8;
  };
  switch (p.type) {
    case "spm":
      buf.writeUInt32BE(p.sqn >>> 0, at);
      buf.writeUInt32BE(p.trail >>> 0, at + 4);
      buf.writeUInt32BE(p.lead >>> 0, at + 8);
      at = writeNla(buf, at + 12, p.nla);
      if (p.fin) {
        writeOptions(OPT_FIN, 4);
      }
      break;
    case "spmr":
      break;
    case "odata":
    case "rdata":
      buf.writeUInt32BE(p.sqn >>> 0, at);
      buf.writeUInt32BE(p.trail >>> 0, at + 4);
      at += 8;
      if (p.fragment) {
        writeOptions(OPT_FRAGMENT, 16);
        buf.writeUInt32BE(p.fragment.firstSqn >>> 0, at);
        buf.writeUInt32BE(p.fragment.offset >>> 0, at + 4);
        buf.writeUInt32BE(p.fragment.apduLength >>> 0, at + 8);
        at += 12;
      }
      p.data.copy(buf, at);
      at += p.data.length;
      break;
    default:
      buf.writeUInt32BE(p.sqns[0]! >>> 0, at);
      at = writeNla(buf, at + 4, p.source);
      at = writeNla(buf, at, p.group);
      if (p.sqns.length > 1) {
        writeOptions(OPT_NAK_LIST, 4 + 4 * (p.sqns.length - 1));
        for (let i = 1; i < p.sqns.length; i++, at += 4) buf.writeUInt32BE(p.sqns[i]! >>> 0, at);
      }
  }
  buf.writeUInt16BE(pgmChecksum(buf), 6);
  return buf;
}

/** Why a datagram was not a packet we take. */
export type DecodeFailure = "short" | "checksum" | "unknown-type" | "malformed";

/**
 * Decodes one UDP payload. A non-zero checksum must match; ODATA and RDATA must carry
 * one (as OpenPGM insists). Returns a failure reason instead of throwing.
 */
export function decodePacket(buf: Buffer): PgmPacket | DecodeFailure {
  if (buf.length < HEADER_SIZE) return "short";
  const type = buf[4]!;
  const bits = buf[5]!;
  const sum = buf.readUInt16BE(6);
  if (sum !== 0) {
    const copy = Buffer.from(buf);
    copy.writeUInt16BE(0, 6);
    if (pgmChecksum(copy) !== sum) return "checksum";
  } else if (type === PGM_ODATA || type === PGM_RDATA) return "checksum";
  const head: PgmHeader = { sport: buf.readUInt16BE(0), dport: buf.readUInt16BE(2), gsi: Buffer.from(buf.subarray(8, 14)) };
  const tsdu = buf.readUInt16BE(14);
  let at = HEADER_SIZE;
  // Options follow the type-specific part; returns the options as [type, body] pairs and where they end.
  const readOptions = (from: number): { list: [number, Buffer][]; end: number } | null => {
    if (!(bits & OPT_PRESENT)) return { list: [], end: from };
    if (from + 4 > buf.length || buf[from] !== OPT_LENGTH || buf[from + 1] !== 4) return null;
    const total = buf.readUInt16BE(from + 2);
    const end = from + total;
    if (total < 4 || end > buf.length) return null;
    const list: [number, Buffer][] = [];
    let o = from + 4;
    while (o < end) {
      if (o + 2 > end) return null;
      const t = buf[o]!;
      const len = buf[o + 1]!;
      if (len < 2 || o + len > end) return null;
      list.push([t & 0x7f, buf.subarray(o + 2, o + len)]);
      o += len;
      if (t & OPT_END) break;
    }
    return { list, end };
  };
  switch (type) {
    case PGM_SPM: {
      if (buf.length < at + 12) return "short";
      const sqn = buf.readUInt32BE(at);
      const trail = buf.readUInt32BE(at + 4);
      const lead = buf.readUInt32BE(at + 8);
      const nla = readNla(buf, at + 12);
      if (!nla) return "malformed";
      const opts = readOptions(nla.next);
      if (!opts) return "malformed";
      return { type: "spm", ...head, sqn, trail, lead, nla: nla.ip, fin: opts.list.some(([t]) => t === OPT_FIN) };
    }
    case PGM_SPMR:
      return { type: "spmr", ...head };
    case PGM_ODATA:
    case PGM_RDATA: {
      if (buf.length < at + 8) return "short";
      const sqn = buf.readUInt32BE(at);
      const trail = buf.readUInt32BE(at + 4);
      const opts = readOptions(at + 8);
      if (!opts) return "malformed";
      if (opts.end + tsdu !== buf.length) return "malformed";
      const data = buf.subarray(opts.end, opts.end + tsdu);
      const frag = opts.list.find(([t]) => t === OPT_FRAGMENT)?.[1];
      const packet: PgmPacket = { type: type === PGM_ODATA ? "odata" : "rdata", ...head, sqn, trail, data };
      if (frag && frag.length >= 14) {
        packet.fragment = { firstSqn: frag.readUInt32BE(2), offset: frag.readUInt32BE(6), apduLength: frag.readUInt32BE(10) };
      }
      return packet;
    }
    case PGM_NAK:
    case PGM_NNAK:
    case PGM_NCF: {
      if (bits & OPT_PARITY) return "malformed"; // parity (FEC) NAKs: libzmq does not use FEC
      if (buf.length < at + 4) return "short";
      const sqns = [buf.readUInt32BE(at)];
      const src = readNla(buf, at + 4);
      if (!src) return "malformed";
      const grp = readNla(buf, src.next);
      if (!grp) return "malformed";
      const opts = readOptions(grp.next);
      if (!opts) return "malformed";
      const list = opts.list.find(([t]) => t === OPT_NAK_LIST)?.[1];
      if (list) for (let o = 2; o + 4 <= list.length; o += 4) sqns.push(list.readUInt32BE(o));
      const name = type === PGM_NAK ? "nak" : type === PGM_NNAK ? "nnak" : "ncf";
      return { type: name, ...head, sqns, source: src.ip, group: grp.ip };
    }
    default:
      return "unknown-type";
  }
}

// ---- sequence numbers: 32-bit, compared in serial-number arithmetic -----------------

export const seqAdd = (a: number, n: number): number => (a + n) >>> 0;
/** a - b as a signed distance. */
export const seqDiff = (a: number, b: number): number => (a - b) | 0;
export const seqLt = (a: number, b: number): boolean => seqDiff(a, b) < 0;
export const seqLte = (a: number, b: number): boolean => seqDiff(a, b) <= 0;

/** The TSI (GSI + source port) as a map key. */
export const tsiKey = (gsi: Buffer, sport: number): string => `${gsi.toString("hex")}.${sport}`;
