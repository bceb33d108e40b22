import { test } from "node:test";
import assert from "node:assert/strict";
import {
  socketOptions,
  commonOptionNames,
  classOptionNames,
  defaultOptionValues,
  defineOptionAccessors,
  validateOption,
  setOptionValue,
  readOptionValue,
  optionsById,
  type OptionValues,
} from "../src/socket/options.js";
import { runtimeName } from "./helpers/runtime.js";

// A stand-in for the socket base: accessors read and write `_options`.
class Socket {
  _options: OptionValues = defaultOptionValues();
  closed = false;
  changed: string[] = [];
  _optionChanged(name: string): void {
    this.changed.push(name);
  }
}
defineOptionAccessors(Socket.prototype, commonOptionNames);
class Dealer extends Socket {}
defineOptionAccessors(Dealer.prototype, classOptionNames.Dealer!);
class Router extends Socket {}
defineOptionAccessors(Router.prototype, classOptionNames.Router!);
class XPublisher extends Socket {}
defineOptionAccessors(XPublisher.prototype, classOptionNames.XPublisher!);

type Any = Record<string, unknown>;
const dealer = () => new Dealer() as unknown as Any & Dealer;

const isEinval = (err: unknown) => {
  assert.ok(err instanceof Error);
  assert.equal((err as unknown as Any).code, "EINVAL");
  assert.equal((err as unknown as Any).errno, 22);
  assert.match(err.message, /^Invalid argument/);
  return true;
};

// ---------------------------------------------------------------------------
// The table itself

test("every row is consistent", () => {
  const ids = new Set<number>();
  for (const [name, spec] of Object.entries(socketOptions)) {
    assert.equal(spec.name, name);
    assert.equal(typeof spec.id, "number");
    assert.ok(!ids.has(spec.id), `duplicate id ${spec.id}`);
    ids.add(spec.id);
    assert.ok(!(spec.readOnly && spec.writeOnly), name);
    if (spec.kind === "number") assert.ok(spec.numberType, `${name} has a number type`);
    if (!spec.readOnly) assert.equal(typeof spec.validate, "function", `${name} has a validator`);
    assert.ok(spec.classes === "common" || spec.classes.length > 0);
  }
  assert.ok(!("type" in socketOptions), "type is the socket's own");
  assert.equal(optionsById.get(17), socketOptions.linger);
  assert.equal(optionsById.get(78), socketOptions.verbosity);
});

/** Defaults libzmq does not accept back (zeromq.js cannot assign them either). */
const defaultsNotAssignable = new Set([
  "routingId", // null: EINVAL
  "zapDomain", // null: EINVAL
  "curvePublicKey", // null: EINVAL
  "curveSecretKey",
  "curveServerKey",
  "heartbeatTimeout", // -1 means "use heartbeatInterval"; only >= 0 can be set
  "tcpAcceptFilter", // stored as a list; assigning takes one filter or null
  "vmciBufferSize", // no vmci transport
  "vmciBufferMinSize",
  "vmciBufferMaxSize",
  "vmciConnectTimeout",
]);

test("every default passes its own validator (except the documented few)", () => {
  for (const spec of Object.values(socketOptions)) {
    if (!spec.validate || defaultsNotAssignable.has(spec.name)) continue;
    const stored = spec.validate(spec.default, defaultOptionValues());
    assert.deepEqual(stored, spec.default, spec.name);
  }
  for (const name of defaultsNotAssignable) assert.throws(() => validateOption(name, socketOptions[name]!.default), name);
});

test("defaults read back as zeromq.js reports them", () => {
  const expected: Any = {
    affinity: 0, rate: 100, recoveryInterval: 10000, linger: -1, reconnectInterval: 100, backlog: 100,
    reconnectMaxInterval: 0, maxMessageSize: -1, lastEndpoint: null, tcpKeepalive: -1, tcpKeepaliveCount: -1,
    tcpKeepaliveIdle: -1, tcpKeepaliveInterval: -1, immediate: false, ipv6: false, securityMechanism: null,
    plainServer: false, plainUsername: null, plainPassword: null, curveServer: false, curvePublicKey: null,
    curveSecretKey: null, curveServerKey: null, zapDomain: null, typeOfService: 0, handshakeInterval: 30000,
    socksProxy: null, heartbeatInterval: 0, heartbeatTimeToLive: 0, heartbeatTimeout: -1, connectTimeout: 0,
    tcpMaxRetransmitTimeout: 0, threadSafe: false, multicastMaxTransportDataUnit: 1500, interface: null,
    zapEnforceDomain: false, loopbackFastPath: false, sendBufferSize: -1, sendHighWaterMark: 1000,
    sendTimeout: -1, multicastHops: 1, receiveBufferSize: -1, receiveHighWaterMark: 1000, receiveTimeout: -1,
    routingId: null,
  };
  const sock = dealer();
  for (const [name, value] of Object.entries(expected)) assert.deepEqual(sock[name], value, name);
  const router = new Router() as unknown as Any;
  assert.equal(router.mandatory, false);
  // zeromq.js cannot read these either
  assert.throws(() => sock.tcpAcceptFilter, isEinval);
  assert.throws(() => sock.vmciBufferSize, isEinval);
});

test("per-type and per-context defaults", () => {
  assert.equal(defaultOptionValues(2).linger, 0); // SUB
  assert.equal(defaultOptionValues(10).linger, 0); // XSUB
  assert.equal(defaultOptionValues(15).linger, 0); // DISH
  assert.equal(defaultOptionValues(5).linger, -1);
  assert.equal(defaultOptionValues(12).threadSafe, true); // SERVER
  assert.equal(defaultOptionValues(18).threadSafe, false); // DGRAM
  assert.equal(defaultOptionValues(5, { blocky: false }).linger, 0);
  assert.equal(defaultOptionValues(5, { ipv6: true }).ipv6, true);
  assert.notEqual(defaultOptionValues(), defaultOptionValues(), "a fresh object each time");
});

test("option placement matches zeromq.js", () => {
  assert.deepEqual([...commonOptionNames].sort(), [
    "affinity", "backlog", "connectTimeout", "curvePublicKey", "curveSecretKey", "curveServer", "curveServerKey",
    "handshakeInterval", "heartbeatInterval", "heartbeatTimeToLive", "heartbeatTimeout", "immediate", "interface",
    "ipv6", "lastEndpoint", "linger", "loopbackFastPath", "maxMessageSize", "multicastMaxTransportDataUnit",
    "plainPassword", "plainServer", "plainUsername", "rate", "reconnectInterval", "reconnectMaxInterval",
    "recoveryInterval", "securityMechanism", "socksProxy", "tcpAcceptFilter", "tcpKeepalive", "tcpKeepaliveCount",
    "tcpKeepaliveIdle", "tcpKeepaliveInterval", "tcpMaxRetransmitTimeout", "threadSafe", "typeOfService",
    "vmciBufferMaxSize", "vmciBufferMinSize", "vmciBufferSize", "vmciConnectTimeout", "zapDomain",
    "zapEnforceDomain",
  ]);
  const w = ["sendBufferSize", "sendHighWaterMark", "sendTimeout", "multicastHops"];
  const r = ["receiveBufferSize", "receiveHighWaterMark", "receiveTimeout"];
  const expected: Record<string, string[]> = {
    Pair: [...w, ...r],
    Publisher: [...w, "conflate", "noDrop", "invertMatching"],
    Subscriber: [...r, "conflate", "invertMatching"],
    Request: [...w, ...r, "routingId", "probeRouter", "correlate", "relaxed"],
    Reply: [...w, ...r, "routingId"],
    Dealer: [...w, ...r, "routingId", "probeRouter", "conflate"],
    Router: [...w, ...r, "routingId", "mandatory", "probeRouter", "handover"],
    Pull: [...r, "conflate"],
    Push: [...w, "conflate"],
    XPublisher: [...w, ...r, "noDrop", "manual", "welcomeMessage", "invertMatching", "verbosity"],
    XSubscriber: [...w, ...r],
    Stream: [...w, ...r, "notify"],
    Server: [...w, ...r],
    Client: [...w, ...r],
    // multicastLoop (ZMQ_MULTICAST_LOOP) is ours beyond zeromq.js, for udp multicast.
    Radio: [...w, "multicastLoop"],
    Dish: [...r],
    Gather: [...r, "conflate"],
    Scatter: [...w, "conflate"],
    Datagram: [...w, ...r, "multicastLoop"],
  };
  for (const [cls, names] of Object.entries(expected)) {
    assert.deepEqual([...classOptionNames[cls]!].sort(), [...names].sort(), cls);
  }
  // write-only in zeromq.js: a setter, no getter
  for (const name of ["probeRouter", "correlate", "relaxed", "conflate", "handover", "noDrop", "manual",
    "welcomeMessage", "notify", "verbosity"]) {
    assert.equal(socketOptions[name]!.writeOnly, true, name);
  }
  for (const name of ["lastEndpoint", "securityMechanism", "threadSafe"]) assert.equal(socketOptions[name]!.readOnly, true);
});

// ---------------------------------------------------------------------------
// Validation

test("wrong value types throw zeromq.js's TypeErrors", () => {
  const cases: Array<[string, unknown, string]> = [];
  for (const spec of Object.values(socketOptions)) {
    if (spec.readOnly) continue;
    if (spec.kind === "number") {
      for (const v of ["5", null, undefined, true, 10n, {}]) cases.push([spec.name, v, "Option value must be a number"]);
    } else if (spec.kind === "boolean") {
      for (const v of [1, 0, "true", null, undefined]) cases.push([spec.name, v, "Option value must be a boolean"]);
    } else if (spec.kind === "string" || spec.kind === "buffer-or-string" || spec.kind === "key") {
      for (const v of [5, true, undefined, {}, new ArrayBuffer(4)]) cases.push([spec.name, v, "Option value must be a string or buffer"]);
    }
  }
  assert.ok(cases.length > 200);
  for (const [name, value, message] of cases) {
    assert.throws(() => validateOption(name, value), (err: unknown) => {
      assert.ok(err instanceof TypeError, `${name} = ${String(value)}`);
      assert.equal(err.message, message);
      return true;
    });
  }
});

test("out-of-range values throw EINVAL naming the option", () => {
  const bad: Array<[string, unknown]> = [
    ["sendHighWaterMark", -1], ["receiveHighWaterMark", -5], ["linger", -2], ["sendTimeout", -2],
    ["receiveTimeout", -2], ["sendBufferSize", -2], ["rate", 0], ["recoveryInterval", -1],
    ["reconnectInterval", -2], ["backlog", -1], ["reconnectMaxInterval", -1], ["tcpKeepalive", 2],
    ["tcpKeepaliveIdle", -2], ["typeOfService", -1], ["handshakeInterval", -1], ["heartbeatInterval", -1],
    ["heartbeatTimeout", -1], ["connectTimeout", -1], ["tcpMaxRetransmitTimeout", -1], ["multicastHops", 0],
    ["multicastMaxTransportDataUnit", 0], ["linger", 2 ** 31], // ToInt32 wraps to negative
    ["heartbeatTimeToLive", 6553600], ["heartbeatTimeToLive", -100],
    ["routingId", ""], ["routingId", "x".repeat(256)], ["routingId", null], ["routingId", Buffer.alloc(0)],
    ["zapDomain", ""], ["zapDomain", "x".repeat(256)], ["zapDomain", null],
    ["plainUsername", ""], ["plainPassword", "x".repeat(256)],
    ["socksProxy", ""], ["interface", ""], ["interface", "x".repeat(17)],
    ["tcpAcceptFilter", ""], ["tcpAcceptFilter", "foo"], ["tcpAcceptFilter", "localhost"],
    ["tcpAcceptFilter", "10.0.0.0/33"], ["tcpAcceptFilter", "127.0.0.1/"], ["tcpAcceptFilter", "::1"],
    ["tcpAcceptFilter", "256.0.0.1"],
    ["curvePublicKey", "short"], ["curvePublicKey", null], ["curveSecretKey", "~".repeat(40)],
    ["curveServerKey", "#".repeat(40)], ["curveServerKey", Buffer.alloc(31)],
    ["verbosity", "foo"], ["verbosity", 1], ["verbosity", undefined],
    ["vmciBufferSize", 1], ["vmciConnectTimeout", 1],
  ];
  for (const [name, value] of bad) {
    assert.throws(() => validateOption(name, value, defaultOptionValues()), (err: unknown) => {
      isEinval(err);
      assert.ok((err as Error).message.includes(name), (err as Error).message);
      return true;
    }, `${name} = ${String(value)}`);
  }
});

test("accepted values are normalized the way zeromq.js/N-API does", () => {
  const ok: Array<[string, unknown, unknown]> = [
    ["linger", 1.7, 1], ["linger", -1.7, -1], ["linger", NaN, 0], ["linger", Infinity, 0], ["linger", 2 ** 32 + 5, 5],
    ["backlog", 2 ** 53, 0], ["sendHighWaterMark", 0, 0], ["tcpKeepalive", 1, 1],
    ["maxMessageSize", 0xffffffff, 0xffffffff], ["maxMessageSize", -5, -5], ["maxMessageSize", NaN, 0],
    ["maxMessageSize", 1.9, 1],
    ["affinity", -3, 0], ["affinity", 2.5, 2], ["affinity", 2 ** 40, 2 ** 40],
    ["heartbeatTimeToLive", 150, 100], ["heartbeatTimeToLive", -99, 0], ["heartbeatTimeToLive", 6553599, 6553500],
    ["typeOfService", 2 ** 32 + 3, 3],
    ["verbosity", null, null], ["verbosity", "allSubs", "allSubs"], ["verbosity", "allSubsUnsubs", "allSubsUnsubs"],
    ["socksProxy", null, null], ["socksProxy", "127.0.0.1:1080", "127.0.0.1:1080"],
    ["socksProxy", Buffer.from("host:1"), "host:1"], ["interface", "x".repeat(16), "x".repeat(16)],
    ["welcomeMessage", "", null], ["welcomeMessage", null, null],
  ];
  for (const [name, value, stored] of ok) {
    assert.deepEqual(validateOption(name, value, defaultOptionValues()), stored, `${name} = ${String(value)}`);
  }
  assert.deepEqual(validateOption("routingId", "åbç"), Buffer.from("åbç"));
  assert.deepEqual(validateOption("welcomeMessage", "hi"), Buffer.from("hi"));
  assert.deepEqual(validateOption("routingId", new Uint8Array([65, 66])), Buffer.from("AB"));
  // the stored Buffer is a copy
  const src = Buffer.from("abc");
  const stored = validateOption("routingId", src) as Buffer;
  src[0] = 0x7a;
  assert.equal(stored.toString(), "abc");
});

test("a uint64 above MAX_SAFE_INTEGER warns like zeromq.js", async () => {
  const warnings: string[] = [];
  const listener = (w: Error) => warnings.push(w.message);
  process.on("warning", listener);
  try {
    validateOption("affinity", 2 ** 60);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(warnings, ["Value is larger than Number.MAX_SAFE_INTEGER and may have been rounded inaccurately."]);
  } finally {
    process.off("warning", listener);
  }
});

test("tcpAcceptFilter appends filters, null clears; IPv6 needs ipv6", () => {
  const values = defaultOptionValues();
  setOptionValue(values, "tcpAcceptFilter", "127.0.0.1");
  setOptionValue(values, "tcpAcceptFilter", "10.0.0.0/8");
  setOptionValue(values, "tcpAcceptFilter", "127.1");
  setOptionValue(values, "tcpAcceptFilter", "::ffff:127.0.0.1");
  assert.deepEqual(values.tcpAcceptFilter, ["127.0.0.1", "10.0.0.0/8", "127.1", "::ffff:127.0.0.1"]);
  assert.throws(() => setOptionValue(values, "tcpAcceptFilter", "::1/64"), isEinval);
  setOptionValue(values, "ipv6", true);
  setOptionValue(values, "tcpAcceptFilter", "::1/64");
  assert.throws(() => setOptionValue(values, "tcpAcceptFilter", "::1/129"), isEinval);
  assert.equal((values.tcpAcceptFilter as string[]).length, 5);
  setOptionValue(values, "tcpAcceptFilter", null);
  assert.deepEqual(values.tcpAcceptFilter, []);
});

test("CURVE keys: 32 raw bytes or 40 Z85 characters, stored raw, read as Z85", () => {
  // RFC 32's test vector: "HelloWorld" is 86 4F D2 6F B5 59 F7 5B
  const z85 = "HelloWorld".repeat(4);
  const raw = Buffer.from("864FD26FB559F75B".repeat(4), "hex");
  assert.deepEqual(validateOption("curvePublicKey", z85), raw);
  assert.deepEqual(validateOption("curvePublicKey", raw), raw);
  assert.deepEqual(validateOption("curvePublicKey", Buffer.from(z85)), raw);
  assert.deepEqual(validateOption("curvePublicKey", z85 + "\0"), raw);
  const sock = dealer();
  sock.curveServerKey = raw;
  assert.equal(sock.curveServerKey, z85);
  assert.equal(sock.securityMechanism, "curve");
});

// ---------------------------------------------------------------------------
// Accessors

test("accessors: get/set round trips through _options", () => {
  const sock = dealer();
  assert.equal(sock.immediate, false);
  sock.immediate = true;
  assert.equal(sock.immediate, true);
  assert.equal(sock._options.immediate, true);
  sock.backlog = 75;
  assert.equal(sock.backlog, 75);
  sock.maxMessageSize = 0xffffffff;
  assert.equal(sock.maxMessageSize, 0xffffffff);
  sock.routingId = "åbçdéfghïjk";
  assert.equal(sock.routingId, "åbçdéfghïjk");
  assert.deepEqual(sock._options.routingId, Buffer.from("åbçdéfghïjk"));
  sock.routingId = Buffer.from("åbçdéfghïjk");
  assert.equal(sock.routingId, "åbçdéfghïjk");
  sock.socksProxy = Buffer.from("foo");
  assert.equal(sock.socksProxy, "foo");
  sock.socksProxy = null;
  assert.equal(sock.socksProxy, null);
  sock.heartbeatTimeToLive = 1999;
  assert.equal(sock.heartbeatTimeToLive, 1900);
});

test("accessors: routingId bytes read back as a C string, like zeromq.js", () => {
  const sock = dealer();
  sock.routingId = Buffer.from([0x41, 0, 0x42]);
  assert.equal(sock.routingId, "A");
  assert.deepEqual(sock._options.routingId, Buffer.from([0x41, 0, 0x42]), "all bytes are kept for the wire");
  sock.routingId = Buffer.from([0]);
  assert.equal(sock.routingId, null);
  sock.routingId = Buffer.from([0, 1]);
  assert.equal(sock.routingId, "");
});

// These TypeErrors come from the JavaScript engine: V8 (Node, Deno; zeromq.js only runs on V8)
// words them as zeromq.js does, JavaScriptCore (Bun) in its own words.
const jsc = runtimeName === "bun";

test("accessors: read-only options throw in strict mode with zeromq.js's message", () => {
  const sock = dealer();
  assert.throws(() => {
    sock.securityMechanism = "plain";
  }, {
    name: "TypeError",
    message: jsc ? "Attempted to assign to readonly property." : "Cannot set property securityMechanism of #<Socket> which has only a getter",
  });
  assert.throws(() => {
    sock.threadSafe = true;
  }, TypeError);
  assert.equal(sock.securityMechanism, null);
});

test("accessors: write-only options have a setter only", () => {
  const router = new Router() as unknown as Any & Router;
  router.probeRouter = true;
  assert.equal(router.probeRouter, undefined);
  assert.equal(router._options.probeRouter, true);
  assert.throws(() => {
    router.probeRouter = 1;
  }, { name: "TypeError", message: "Option value must be a boolean" });
  const xpub = new XPublisher() as unknown as Any & XPublisher;
  xpub.verbosity = "allSubsUnsubs";
  assert.equal(xpub.verbosity, undefined);
  assert.equal(xpub._options.verbosity, "allSubsUnsubs");
});

test("accessors: _optionChanged is called after a successful set only", () => {
  const sock = dealer();
  sock.linger = 0;
  sock.routingId = "a";
  assert.throws(() => {
    sock.linger = -2;
  }, isEinval);
  assert.throws(() => {
    sock.linger = "x";
  }, TypeError);
  assert.deepEqual(sock.changed, ["linger", "routingId"]);
  assert.equal(sock.linger, 0, "a rejected value is not stored");
  // no hook: still works
  class Bare {
    _options = defaultOptionValues();
  }
  defineOptionAccessors(Bare.prototype, ["linger"]);
  const bare = new Bare() as unknown as Any;
  bare.linger = 5;
  assert.equal(bare.linger, 5);
});

test("accessors: an unknown property on a non-extensible socket throws", () => {
  const sock = dealer();
  Object.preventExtensions(sock);
  assert.throws(() => {
    sock.doesNotExist = 1;
  }, {
    name: "TypeError",
    message: jsc ? "Attempting to define property on object that is not extensible." : "Cannot add property doesNotExist, object is not extensible",
  });
});

test("accessors: a closed socket's options throw ENOTSOCK like zeromq.js", () => {
  const sock = dealer();
  sock.closed = true;
  for (const access of [() => sock.linger, () => (sock.linger = 5)]) {
    assert.throws(access, (err: unknown) => {
      assert.equal((err as Any).code, "ENOTSOCK");
      assert.equal((err as Any).errno, 88);
      assert.equal((err as Error).message, "Socket operation on non-socket");
      return true;
    });
  }
});

test("accessors: a property the prototype already owns is left alone", () => {
  class Custom {
    _options = defaultOptionValues();
    get lastEndpoint(): string {
      return "mine";
    }
  }
  defineOptionAccessors(Custom.prototype, ["lastEndpoint", "linger"]);
  const c = new Custom() as unknown as Any;
  assert.equal(c.lastEndpoint, "mine");
  assert.equal(c.linger, -1);
  assert.throws(() => defineOptionAccessors(Custom.prototype, ["noSuchOption"]), TypeError);
});

test("security mechanism follows libzmq's rules", () => {
  const sock = dealer();
  assert.equal(sock.securityMechanism, null);
  sock.plainServer = true;
  assert.equal(sock.securityMechanism, "plain");
  assert.equal(sock.plainServer, true);
  sock.curveServerKey = "HelloWorld".repeat(4);
  assert.equal(sock.securityMechanism, "curve");
  assert.equal(sock.plainServer, false);
  assert.equal(sock.curveServer, false, "a server key makes this side a client");
  sock.curveServer = true;
  assert.equal(sock.curveServer, true);
  sock.plainUsername = "u";
  assert.equal(sock.securityMechanism, "plain");
  assert.equal(sock.plainServer, false);
  sock.plainUsername = null;
  assert.equal(sock.securityMechanism, null);
  assert.equal(sock.plainUsername, "u", "null switches PLAIN off but keeps the username (libzmq)");
  const client = dealer();
  client.plainUsername = "user";
  client.plainPassword = "pass";
  assert.equal(client.securityMechanism, "plain");
  assert.equal(client.plainServer, false);
  assert.deepEqual(client._options.plainPassword, Buffer.from("pass"));
});

test("setOptionValue / readOptionValue mirror the accessors", () => {
  const values = defaultOptionValues();
  setOptionValue(values, "routingId", Buffer.from("id"));
  assert.equal(readOptionValue(values, "routingId"), "id");
  setOptionValue(values, "plainServer", true);
  assert.equal(readOptionValue(values, "securityMechanism"), "plain");
  assert.throws(() => setOptionValue(values, "linger", "x"), TypeError);
  assert.throws(() => readOptionValue(values, "nope"), TypeError);
});
