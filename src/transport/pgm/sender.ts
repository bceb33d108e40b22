/**
 * The sending side of PGM for one endpoint (no I/O): numbers TSDUs as ODATA, keeps
 * the last `windowSqns` of them for repair, paces everything it multicasts to `rate`,
 * answers NAKs with an NCF and then RDATA (repairs go before new data), and sends SPMs:
 * three at start, a heartbeat schedule after data (libzmq's: 100 ms x4, 1.3 s, 7 s,
 * 16 s, 25 s, 30 s) and ambient ones every 30 s; SPMR gets an SPM at once.
 */
import { encodePacket, seqAdd, seqDiff, seqLt, seqLte, type PgmPacket } from "./packet.js";

export interface SenderOptions {
  gsi: Buffer;
  /** The TSI's source port (random, as OpenPGM picks it). */
  sport: number;
  /** The endpoint's port. */
  port: number;
  group: string;
  /** Our unicast address on the interface: advertised in SPMs, where NAKs come. */
  nla: string;
  /** Repair window in sequence numbers (libzmq: recoveryInterval x rate / 8 / maxTpdu). */
  windowSqns: number;
  /** Bytes per second, headers included (libzmq: rate x 1000 / 8). */
  rateBytes: number;
}

export interface SenderIo {
  /** Multicasts a downstream packet to the group. */
  multicast(buf: Buffer): void;
}

const HEARTBEATS = [100, 100, 100, 100, 1300, 7000, 16000, 25000, 30000];
const AMBIENT = 30000;
/** IPv4 + UDP headers, counted against the rate. */
const IP_UDP = 28;

export interface SenderStats {
  odata: number;
  rdata: number;
  naks: number;
  spms: number;
}

export class PgmSender {
  readonly stats: SenderStats = { odata: 0, rdata: 0, naks: 0, spms: 0 };
  private readonly window = new Map<number, Buffer>();
  private trail = 0;
  private lead = 0xffffffff;
  private spmSqn = 0;
  private readonly repairs: number[] = [];
  private readonly repairSet = new Set<number>();
  private tokens: number;
  private readonly burst: number;
  private lastRefill: number;
  private nextSpm: number;
  private heartbeat = HEARTBEATS.length;

  constructor(private readonly o: SenderOptions, private readonly io: SenderIo, now: number) {
    this.burst = Math.max(1500 + IP_UDP, o.rateBytes / 20);
    this.tokens = this.burst;
    this.lastRefill = now;
    for (let i = 0; i < 3; i++) this.sendSpm(false);
    this.nextSpm = now + AMBIENT;
  }

  /** Bytes of rate budget available now. */
  private refill(now: number): void {
    const dt = now - this.lastRefill;
    if (dt > 0) {
      this.tokens = Math.min(this.burst, this.tokens + (dt * this.o.rateBytes) / 1000);
      this.lastRefill = now;
    }
  }

  /** True if a TSDU of `size` bytes may go now (repairs first). */
  canSend(size: number, now: number): boolean {
    this.flushRepairs(now);
    this.refill(now);
    return this.repairs.length === 0 && this.tokens >= size + 24 + IP_UDP;
  }

  /** Milliseconds until `size` bytes of budget are there. */
  waitFor(size: number): number {
    const missing = size + 24 + IP_UDP - this.tokens;
    return missing <= 0 ? 0 : Math.ceil((missing * 1000) / this.o.rateBytes);
  }

  /** Sends one TSDU as ODATA (call canSend first). */
  sendData(tsdu: Buffer, now: number): number {
    const sqn = seqAdd(this.lead, 1);
    this.lead = sqn;
    this.window.set(sqn, tsdu);
    while (seqDiff(this.lead, this.trail) >= this.o.windowSqns) {
      this.window.delete(this.trail);
      this.trail = seqAdd(this.trail, 1);
    }
    const buf = encodePacket({ type: "odata", sport: this.o.sport, dport: this.o.port, gsi: this.o.gsi, sqn, trail: this.trail, data: tsdu });
    this.tokens -= buf.length + IP_UDP;
    this.io.multicast(buf);
    this.stats.odata++;
    this.heartbeat = 0;
    this.nextSpm = now + HEARTBEATS[0]!;
    return sqn;
  }

  /** Handles an upstream packet (NAK, SPMR); others are ignored. */
  onPacket(p: PgmPacket, now: number): void {
    if (p.dport !== this.o.sport || p.sport !== this.o.port || !p.gsi.equals(this.o.gsi)) return;
    if (p.type === "spmr") {
      this.sendSpm(false);
      return;
    }
    if (p.type !== "nak") return;
    if (p.source !== this.o.nla || p.group !== this.o.group) return;
    this.stats.naks++;
    const confirmed: number[] = [];
    for (const sqn of p.sqns) {
      if (!this.window.has(sqn)) continue; // outside the window: the receiver will see the trail
      confirmed.push(sqn);
      if (!this.repairSet.has(sqn)) {
        this.repairSet.add(sqn);
        this.repairs.push(sqn);
      }
    }
    for (let i = 0; i < confirmed.length; i += 63) {
      this.io.multicast(encodePacket({
        type: "ncf", sport: this.o.sport, dport: this.o.port, gsi: this.o.gsi, sqns: confirmed.slice(i, i + 63),
        source: this.o.nla, group: this.o.group,
      }));
    }
    this.flushRepairs(now);
  }

  /** When the next SPM is due. */
  get nextSpmAt(): number {
    return this.nextSpm;
  }

  get pendingRepairs(): number {
    return this.repairs.length;
  }

  /** Sends due SPMs and repairs; returns when it next needs to run. */
  tick(now: number): number {
    this.flushRepairs(now);
    if (now >= this.nextSpm) {
      this.sendSpm(false);
      if (this.heartbeat < HEARTBEATS.length - 1) {
        this.heartbeat++;
        this.nextSpm = now + HEARTBEATS[this.heartbeat]!;
      } else this.nextSpm = now + AMBIENT;
    }
    let next = this.nextSpm;
    if (this.repairs.length > 0) next = Math.min(next, now + Math.max(1, this.waitFor(1500)));
    return next;
  }

  /** The end of the session: SPMs with OPT_FIN (as OpenPGM sends on close). */
  finish(): void {
    for (let i = 0; i < 3; i++) this.sendSpm(true);
  }

  private flushRepairs(now: number): void {
    this.refill(now);
    while (this.repairs.length > 0) {
      const sqn = this.repairs[0]!;
      const tsdu = this.window.get(sqn);
      if (tsdu === undefined || seqLt(sqn, this.trail) || seqLte(seqAdd(this.lead, 1), sqn)) {
        this.repairs.shift();
        this.repairSet.delete(sqn);
        continue;
      }
      if (this.tokens < tsdu.length + 24 + IP_UDP) return;
      this.repairs.shift();
      this.repairSet.delete(sqn);
      const buf = encodePacket({ type: "rdata", sport: this.o.sport, dport: this.o.port, gsi: this.o.gsi, sqn, trail: this.trail, data: tsdu });
      this.tokens -= buf.length + IP_UDP;
      this.io.multicast(buf);
      this.stats.rdata++;
    }
  }

  private sendSpm(fin: boolean): void {
    const buf = encodePacket({
      type: "spm", sport: this.o.sport, dport: this.o.port, gsi: this.o.gsi, sqn: this.spmSqn, trail: this.trail, lead: this.lead,
      nla: this.o.nla, fin,
    });
    this.spmSqn = seqAdd(this.spmSqn, 1);
    this.io.multicast(buf);
    this.stats.spms++;
  }
}
