/**
 * ZMTP socket-type names and which may talk to which (RFC 28-31, 37). A pair that is
 * not in this table is refused at the handshake: that connection is dropped, the
 * socket carries on.
 */
export const socketTypeNames: Readonly<Record<number, string>> = {
  0: "PAIR", 1: "PUB", 2: "SUB", 3: "REQ", 4: "REP", 5: "DEALER", 6: "ROUTER",
  7: "PULL", 8: "PUSH", 9: "XPUB", 10: "XSUB", 11: "STREAM",
  // The draft types (libzmq built with ZMQ_BUILD_DRAFT_API); DGRAM never speaks ZMTP.
  12: "SERVER", 13: "CLIENT", 14: "RADIO", 15: "DISH", 16: "GATHER", 17: "SCATTER", 18: "DGRAM",
  19: "PEER", 20: "CHANNEL",
};

const compatible: Readonly<Record<string, readonly string[]>> = {
  PAIR: ["PAIR"],
  PUB: ["SUB", "XSUB"],
  XPUB: ["SUB", "XSUB"],
  SUB: ["PUB", "XPUB"],
  XSUB: ["PUB", "XPUB"],
  REQ: ["REP", "ROUTER"],
  REP: ["REQ", "DEALER"],
  DEALER: ["REP", "DEALER", "ROUTER"],
  ROUTER: ["REQ", "DEALER", "ROUTER"],
  PUSH: ["PULL"],
  PULL: ["PUSH"],
  SERVER: ["CLIENT"],
  CLIENT: ["SERVER"],
  RADIO: ["DISH"],
  DISH: ["RADIO"],
  GATHER: ["SCATTER"],
  SCATTER: ["GATHER"],
  PEER: ["PEER"],
  CHANNEL: ["CHANNEL"],
};

export function isCompatible(ours: string, theirs: string): boolean {
  return compatible[ours]?.includes(theirs.toUpperCase()) ?? false;
}

/** Socket types that announce their routing id as the Identity property. */
export const sendsIdentity = (type: string): boolean => type === "REQ" || type === "DEALER" || type === "ROUTER";
