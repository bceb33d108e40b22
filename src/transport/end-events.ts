import type { EngineEnd } from "../engine/zmtp-engine.js";
import type { Event } from "../monitor/events.js";
import { zmqError } from "../errors.js";

/** The event a connection's end produces: disconnect after a handshake, a typed handshake error before. */
export function engineEndEvent(end: EngineEnd, handshaked: boolean, address: string): Event | null {
  if (end.kind === "protocol") {
    const error = zmqError(end.reason, end.reason === "ERR_ZMTP_MECHANISM_MISMATCH" ? "ZMTP protocol error" : end.message) as Error & { code: string };
    if (handshaked) return { type: "disconnect", address } as Event;
    return { type: "handshake:error:protocol", address, error } as unknown as Event;
  }
  if (handshaked) return { type: "disconnect", address } as Event;
  if (end.kind === "timeout") {
    const error = zmqError("ETIMEDOUT", end.message);
    return { type: "handshake:error:other", address, error } as unknown as Event;
  }
  return null;
}
