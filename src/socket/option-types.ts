/* The option properties as TypeScript sees them; the accessors come from options.ts at run time. Kept in step with the table by test/options-types.test.ts. */

export interface CommonSocketOptions {
  affinity: number;
  rate: number;
  recoveryInterval: number;
  linger: number;
  reconnectInterval: number;
  backlog: number;
  reconnectMaxInterval: number;
  maxMessageSize: number;
  readonly lastEndpoint: string | null;
  tcpKeepalive: number;
  tcpKeepaliveCount: number;
  tcpKeepaliveIdle: number;
  tcpKeepaliveInterval: number;
  tcpAcceptFilter: string | null;
  immediate: boolean;
  ipv6: boolean;
  readonly securityMechanism: null | "plain" | "curve" | "gssapi";
  plainServer: boolean;
  plainUsername: string | Buffer | null;
  plainPassword: string | Buffer | null;
  curveServer: boolean;
  curvePublicKey: string | Buffer | null;
  curveSecretKey: string | Buffer | null;
  curveServerKey: string | Buffer | null;
  zapDomain: string | Buffer | null;
  typeOfService: number;
  handshakeInterval: number;
  socksProxy: string | Buffer | null;
  heartbeatInterval: number;
  heartbeatTimeToLive: number;
  heartbeatTimeout: number;
  connectTimeout: number;
  tcpMaxRetransmitTimeout: number;
  readonly threadSafe: boolean;
  multicastMaxTransportDataUnit: number;
  vmciBufferSize: number;
  vmciBufferMinSize: number;
  vmciBufferMaxSize: number;
  vmciConnectTimeout: number;
  interface: string | Buffer | null;
  zapEnforceDomain: boolean;
  loopbackFastPath: boolean;
}

export interface PairOptions {
  sendBufferSize: number;
  sendHighWaterMark: number;
  sendTimeout: number;
  multicastHops: number;
  receiveBufferSize: number;
  receiveHighWaterMark: number;
  receiveTimeout: number;
}

export interface PublisherOptions {
  sendBufferSize: number;
  sendHighWaterMark: number;
  sendTimeout: number;
  multicastHops: number;
  conflate: boolean;
  noDrop: boolean;
  invertMatching: boolean;
}

export interface SubscriberOptions {
  receiveBufferSize: number;
  receiveHighWaterMark: number;
  receiveTimeout: number;
  conflate: boolean;
  invertMatching: boolean;
}

export interface RequestOptions {
  sendBufferSize: number;
  sendHighWaterMark: number;
  sendTimeout: number;
  multicastHops: number;
  receiveBufferSize: number;
  receiveHighWaterMark: number;
  receiveTimeout: number;
  routingId: string | Buffer | null;
  probeRouter: boolean;
  correlate: boolean;
  relaxed: boolean;
}

export interface ReplyOptions {
  sendBufferSize: number;
  sendHighWaterMark: number;
  sendTimeout: number;
  multicastHops: number;
  receiveBufferSize: number;
  receiveHighWaterMark: number;
  receiveTimeout: number;
  routingId: string | Buffer | null;
}

export interface DealerOptions {
  sendBufferSize: number;
  sendHighWaterMark: number;
  sendTimeout: number;
  multicastHops: number;
  receiveBufferSize: number;
  receiveHighWaterMark: number;
  receiveTimeout: number;
  routingId: string | Buffer | null;
  probeRouter: boolean;
  conflate: boolean;
}

export interface RouterOptions {
  sendBufferSize: number;
  sendHighWaterMark: number;
  sendTimeout: number;
  multicastHops: number;
  receiveBufferSize: number;
  receiveHighWaterMark: number;
  receiveTimeout: number;
  routingId: string | Buffer | null;
  mandatory: boolean;
  probeRouter: boolean;
  handover: boolean;
}

export interface PullOptions {
  receiveBufferSize: number;
  receiveHighWaterMark: number;
  receiveTimeout: number;
  conflate: boolean;
}

export interface PushOptions {
  sendBufferSize: number;
  sendHighWaterMark: number;
  sendTimeout: number;
  multicastHops: number;
  conflate: boolean;
}

export interface XPublisherOptions {
  sendBufferSize: number;
  sendHighWaterMark: number;
  sendTimeout: number;
  multicastHops: number;
  receiveBufferSize: number;
  receiveHighWaterMark: number;
  receiveTimeout: number;
  noDrop: boolean;
  manual: boolean;
  welcomeMessage: string | Buffer | null;
  invertMatching: boolean;
  verbosity: null | "allSubs" | "allSubsUnsubs";
}

export interface XSubscriberOptions {
  sendBufferSize: number;
  sendHighWaterMark: number;
  sendTimeout: number;
  multicastHops: number;
  receiveBufferSize: number;
  receiveHighWaterMark: number;
  receiveTimeout: number;
}

export interface StreamOptions {
  sendBufferSize: number;
  sendHighWaterMark: number;
  sendTimeout: number;
  multicastHops: number;
  receiveBufferSize: number;
  receiveHighWaterMark: number;
  receiveTimeout: number;
  notify: boolean;
}

// The draft classes (zmq-ts/draft).

export interface ServerOptions extends PairOptions {}
export interface ClientOptions extends PairOptions {}
export interface PeerOptions extends PairOptions {}
export interface ChannelOptions extends PairOptions {}

export interface RadioOptions {
  sendBufferSize: number;
  sendHighWaterMark: number;
  sendTimeout: number;
  multicastHops: number;
  multicastLoop: boolean;
}

export interface DishOptions {
  receiveBufferSize: number;
  receiveHighWaterMark: number;
  receiveTimeout: number;
}

export interface GatherOptions extends DishOptions {
  conflate: boolean;
}

export interface ScatterOptions {
  sendBufferSize: number;
  sendHighWaterMark: number;
  sendTimeout: number;
  multicastHops: number;
  conflate: boolean;
}

export interface DatagramOptions extends PairOptions {
  multicastLoop: boolean;
}
