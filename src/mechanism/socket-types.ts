/**
 * ZMTP socket-type names and which may talk to which (RFC 28-31, 37). A pair that is
 * not in this table is refused at the handshake: that connection is dropped, the
 * socket carries on.
 */
export const socketTypeNames: Readonly<Record<number, string>> = {
  0: "PAIR", 1: "PUB", 2: "SUB", 3: "REQ", 4: "REP", 5: "DEALER", 6: "ROUTER",
  7: "PULL", 8: "PUSH", 9: "XPUB", 10: "XSUB", 11: "STREAM",
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
};

export function isCompatible(ours: string, theirs: string): boolean {
  return compatible[ours]?.includes(theirs.toUpperCase()) ?? false;
}

/** Socket types that announce their routing id as the Identity property. */
export const sendsIdentity = (type: string): boolean => type === "REQ" || type === "DEALER" || type === "ROUTER";
