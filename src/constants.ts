/** libzmq socket type numbers, under pyzmq's names (XREQ and XREP are the old names of DEALER and ROUTER). */
export const PAIR = 0;
export const PUB = 1;
export const SUB = 2;
export const REQ = 3;
export const REP = 4;
export const DEALER = 5;
export const ROUTER = 6;
export const PULL = 7;
export const PUSH = 8;
export const XPUB = 9;
export const XSUB = 10;
export const STREAM = 11;
export const XREQ = DEALER;
export const XREP = ROUTER;
