/**
 * The receiving side of PGM for one endpoint (no I/O): per source, a receive window
 * that detects gaps, asks for repairs with NAKs (random back-off, NCF and RDATA waits,
 * repeats), and gives up on a gap when the source's window has moved past it or after
 * `recoveryInterval`: that is a loss, reported, and the message stream resynchronises
 * at the next message start (as libzmq's pgm_receiver does). A late joiner starts at
 * the source's current lead (from its SPM) or at the first data packet it sees.
 */
import { encodePacket, seqAdd, seqDiff, seqLt, seqLte, tsiKey, type PgmPacket } from "./packet.js";
import { TsduDecoder } from "./framing.js";
import type { Message } from "../../pipe/msg-queue.js";

export interface ReceiverOptions {
  /** The endpoint's port (PGM data-destination port, also the UDP port). */
  port: number;
  group: string;
  /** How long a gap may stay unrepaired (ms), libzmq's ZMQ_RECOVERY_IVL. */
  recoveryInterval: number;
  maxMessageSize: number;
  /** NAK back-off interval (ms); a NAK is sent after a random part of it. libzmq: 50. */
  nakBackoff?: number;
  /** How long to wait for an NCF before repeating a NAK (ms). libzmq: 200. */
  nakRepeat?: number;
  /** How long to wait for RDATA after an NCF (ms). libzmq: 200. */
  nakRdata?: number;
  /** Forget a source silent this long (ms). libzmq: 300 s. */
  peerExpiry?: number;
  random?: () => number;
}

export interface LossReport {
  /** The source's TSI: GSI in hex, then "." and its port. */
  source: string;
  /** Sequence numbers (TPDUs) that could not be repaired. */
  lost: number;
}

export interface ReceiverIo {
  /** Sends a unicast upstream packet (NAK, SPMR) to address:port. */
  unicast(buf: Buffer, address: string): void;
  /** Hands a whole message up; false means the socket is full (delivery pauses until resume()). */
  deliver(msg: Message): boolean;
  loss(report: LossReport): void;
}

const LOST = Symbol("lost");

interface Gap {
  /** 0: backing off, 1: NAK sent, waiting for NCF; 2: NCF seen, waiting for RDATA. */
  state: 0 | 1 | 2;
  due: number;
  giveUp: number;
}

interface Source {
  key: string;
  gsi: Buffer;
  sport: number;
  /** The source's unicast NLA from its SPM (where NAKs go); null until an SPM arrives. */
  nla: string | null;
  /** Where its packets came from: an SPMR goes here while the NLA is unknown. */
  from: string;
  defined: boolean;
  next: number;
  lead: number;
  have: Map<number, Buffer | typeof LOST>;
  gaps: Map<number, Gap>;
  decoder: TsduDecoder;
  heard: number;
  lastSpmr: number;
  pendingLoss: number;
}

export interface ReceiverStats {
  /** Data packets accepted (ODATA + RDATA, without duplicates). */
  received: number;
  /** Gaps filled by RDATA (or late ODATA). */
  repaired: number;
  /** TPDUs given up. */
  lost: number;
  naksSent: number;
  messages: number;
}

/** At most this many gaps are tracked per source; a larger jump is a loss at once. */
const MAX_GAPS = 10000;

export class PgmReceiver {
  readonly stats: ReceiverStats = { received: 0, repaired: 0, lost: 0, naksSent: 0, messages: 0 };
  private readonly sources = new Map<string, Source>();
  private paused = false;
  private readonly o: Required<ReceiverOptions>;

  constructor(options: ReceiverOptions, private readonly io: ReceiverIo) {
    this.o = {
      nakBackoff: 50, nakRepeat: 200, nakRdata: 200, peerExpiry: 300_000, random: Math.random, ...options,
    };
  }

  /** Handles one packet from the network. */
  onPacket(p: PgmPacket, fromAddress: string, now: number): void {
    if (p.type === "nak" || p.type === "nnak" || p.type === "spmr") return; // upstream: for sources
    if (p.dport !== this.o.port) return;
    const key = tsiKey(p.gsi, p.sport);
    let s = this.sources.get(key);
    if (!s) {
      if (p.type === "ncf") return;
      s = {
        key, gsi: p.gsi, sport: p.sport, nla: null, from: fromAddress, defined: false, next: 0, lead: 0,
        have: new Map(), gaps: new Map(), decoder: new TsduDecoder(this.o.maxMessageSize), heard: now, lastSpmr: -Infinity,
        pendingLoss: 0,
      };
      this.sources.set(key, s);
    }
    s.heard = now;
    s.from = fromAddress;
    switch (p.type) {
      case "spm":
        s.nla = p.nla;
        if (!s.defined) {
          s.defined = true;
          s.lead = p.lead;
          s.next = seqAdd(p.lead, 1);
        } else {
          this.advanceTrail(s, p.trail);
          if (seqLt(s.lead, p.lead)) this.extendLead(s, p.lead, now);
        }
        break;
      case "ncf":
        for (const sqn of p.sqns) {
          const gap = s.gaps.get(sqn);
          if (gap) {
            gap.state = 2;
            gap.due = now + this.o.nakRdata;
          }
        }
        return;
      case "odata":
      case "rdata": {
        if (p.fragment && p.fragment.apduLength !== p.data.length) return; // libzmq never fragments APDUs
        const sqn = p.sqn;
        if (!s.defined) {
          s.defined = true;
          s.next = sqn;
          s.lead = seqAdd(sqn, -1);
        }
        if (seqLt(sqn, s.next) || s.have.has(sqn)) break; // duplicate
        if (seqLte(sqn, s.lead)) {
          if (s.gaps.delete(sqn)) this.stats.repaired++;
        } else if (seqAdd(s.lead, 1) !== sqn) {
          this.extendLead(s, seqAdd(sqn, -1), now);
        }
        if (seqLt(s.lead, sqn)) s.lead = sqn;
        s.have.set(sqn, p.data);
        this.stats.received++;
        this.advanceTrail(s, p.trail);
        break;
      }
    }
    this.deliver(s);
  }

  /** The socket has room again. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    for (const s of this.sources.values()) {
      this.deliver(s);
      if (this.paused) break;
    }
  }

  /** Runs due NAKs and give-ups; returns the next time it wants to run (or null). */
  tick(now: number): number | null {
    let next: number | null = null;
    const soon = (t: number) => {
      if (next === null || t < next) next = t;
    };
    for (const s of this.sources.values()) {
      if (now - s.heard > this.o.peerExpiry && s.gaps.size === 0) {
        this.sources.delete(s.key);
        continue;
      }
      const nak: number[] = [];
      let gaveUp = false;
      for (const [sqn, gap] of s.gaps) {
        if (now >= gap.giveUp) {
          s.gaps.delete(sqn);
          s.have.set(sqn, LOST);
          gaveUp = true;
          continue;
        }
        if (now >= gap.due) {
          if (gap.state === 0 || gap.state === 1 || gap.state === 2) {
            // back-off over, or no NCF / RDATA in time: (re)send the NAK
            nak.push(sqn);
            gap.state = 1;
            gap.due = now + this.o.nakRepeat;
          }
        }
        soon(Math.min(gap.due, gap.giveUp));
      }
      if (nak.length > 0) this.sendNaks(s, nak, now);
      if (gaveUp) this.deliver(s);
    }
    return next;
  }

  get sourceCount(): number {
    return this.sources.size;
  }

  private sendNaks(s: Source, sqns: number[], now: number): void {
    if (s.nla === null) {
      // No SPM yet: ask for one (the NLA tells where NAKs go).
      if (now - s.lastSpmr >= 100) {
        s.lastSpmr = now;
        this.io.unicast(encodePacket({ type: "spmr", sport: this.o.port, dport: s.sport, gsi: s.gsi }), s.from);
      }
      return;
    }
    sqns.sort((a, b) => seqDiff(a, b));
    for (let i = 0; i < sqns.length; i += 63) {
      const part = sqns.slice(i, i + 63);
      const buf = encodePacket({
        type: "nak", sport: this.o.port, dport: s.sport, gsi: s.gsi, sqns: part, source: s.nla, group: this.o.group,
      });
      this.io.unicast(buf, s.nla);
      this.stats.naksSent++;
    }
  }

  /** Sequence numbers up to `lead` are known to exist: the ones we lack are gaps. */
  private extendLead(s: Source, lead: number, now: number): void {
    const from = seqAdd(s.lead, 1);
    const count = seqDiff(lead, s.lead);
    if (count <= 0) return;
    if (count > MAX_GAPS || s.gaps.size + count > MAX_GAPS) {
      // Too far behind to repair: everything up to `lead` is lost.
      this.skipTo(s, seqAdd(lead, 1), count);
      return;
    }
    for (let i = 0; i < count; i++) {
      const sqn = seqAdd(from, i);
      if (!s.have.has(sqn) && !s.gaps.has(sqn)) {
        s.gaps.set(sqn, { state: 0, due: now + this.o.random() * this.o.nakBackoff, giveUp: now + this.o.recoveryInterval });
      }
    }
    s.lead = lead;
  }

  /** The source no longer holds anything before `trail`: what we lack there is lost. */
  private advanceTrail(s: Source, trail: number): void {
    if (!seqLt(s.next, trail)) return;
    if (seqDiff(trail, s.next) > 0x3fffffff) return; // nonsense
    if (seqLt(s.lead, trail)) {
      // Everything we know of is behind the trail (we fell behind, or a long silence).
      const lost = seqDiff(trail, s.next) - this.countHeld(s, trail);
      this.skipTo(s, trail, lost, true);
      return;
    }
    for (let sqn = s.next; seqLt(sqn, trail); sqn = seqAdd(sqn, 1)) {
      if (!s.have.has(sqn)) {
        s.gaps.delete(sqn);
        s.have.set(sqn, LOST);
      }
    }
  }

  private countHeld(s: Source, before: number): number {
    let n = 0;
    for (const [sqn, v] of s.have) if (v !== LOST && seqLt(sqn, before)) n++;
    return n;
  }

  /** Jumps the window to `next`, delivering what is held before it when `deliverHeld`. */
  private skipTo(s: Source, next: number, lost: number, deliverHeld = false): void {
    if (deliverHeld && !this.paused) {
      const held = [...s.have.keys()].filter((q) => seqLt(q, next)).sort((a, b) => seqDiff(a, b));
      for (const q of held) {
        const v = s.have.get(q)!;
        s.have.delete(q);
        if (v === LOST) continue;
        this.decode(s, v);
      }
    } else {
      for (const q of [...s.have.keys()]) if (seqLt(q, next)) s.have.delete(q);
    }
    for (const q of [...s.gaps.keys()]) if (seqLt(q, next)) s.gaps.delete(q);
    if (lost > 0) {
      s.decoder.reset();
      s.pendingLoss += lost;
    }
    s.next = next;
    if (seqLt(s.lead, next)) s.lead = seqAdd(next, -1);
    this.flushLoss(s);
  }

  private deliver(s: Source): void {
    while (!this.paused) {
      const v = s.have.get(s.next);
      if (v === undefined) break;
      s.have.delete(s.next);
      s.next = seqAdd(s.next, 1);
      if (v === LOST) {
        s.decoder.reset();
        s.pendingLoss++;
        continue;
      }
      this.decode(s, v);
    }
    this.flushLoss(s);
  }

  private decode(s: Source, tsdu: Buffer): void {
    const out: Message[] = [];
    s.decoder.push(tsdu, out);
    for (const msg of out) {
      this.stats.messages++;
      if (!this.io.deliver(msg)) this.paused = true;
    }
  }

  private flushLoss(s: Source): void {
    if (s.pendingLoss === 0) return;
    const lost = s.pendingLoss;
    s.pendingLoss = 0;
    this.stats.lost += lost;
    this.io.loss({ source: s.key, lost });
  }
}
