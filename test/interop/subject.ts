// The module under test for the interop suite.
//
//   ZMQ_TS_SUBJECT=zeromq  -> the npm `zeromq` package (libzmq), the reference
//   ZMQ_TS_SUBJECT=zmq-ts  -> our library, ../../src/index.js
//   unset                  -> DEFAULT_SUBJECT below
//
const DEFAULT_SUBJECT: string = "zmq-ts";

export const subjectName: string = process.env.ZMQ_TS_SUBJECT ?? DEFAULT_SUBJECT;

// The specifier is kept in a variable so that tsc does not try to resolve our
// (not yet written) entry point; at run time tsx maps ".js" to ".ts".
const OURS = "../../src/index.js";

export const zmq: typeof import("zeromq") =
  subjectName === "zeromq"
    ? await import("zeromq")
    : ((await import(OURS)) as typeof import("zeromq"));

export type * as Zmq from "zeromq";
