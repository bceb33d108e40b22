/**
 * @module zmq-ts/cluster
 * An IPython-parallel-like cluster on zmq-ts: a controller (hub + schedulers), engines
 * that run tasks and talk to each other over a mesh (collectives), and clients. See
 * docs/CLUSTER.md for the design.
 */
export { Controller, type ControllerOptions } from "./controller.js";
export { Engine, type EngineOptions } from "./engine.js";
export { Client, type ClientOptions, type EngineEntry, type StreamEvent, type DataEvent, type ClientEvents } from "./client.js";
export { DirectView, LoadBalancedView, type LoadBalancedOptions, type TaskFunction, type PerEngine } from "./views.js";
export { AsyncResult, type TaskMetadata } from "./async-result.js";
export { taskContext, type TaskContext } from "./task-context.js";
export { ClusterError, type ClusterErrorCode } from "./errors.js";
export {
  readConnectionFile, writeConnectionFile, type ConnectionInfo, type ConnectionSource, type Transport, type Channel,
} from "./connection.js";
export type { EngineInfo, TaskRecord, TaskState } from "./hub.js";
export { SCHEMES, type Scheme, type SchemeName } from "./schemes.js";
export { DEFAULT_HEARTBEAT, detectionBound, type HeartbeatOptions } from "./heart.js";
export type { DropCounts, Logger } from "./log.js";
export { Mesh, Comm, type PeerInfo, type MeshOptions, type ReduceOp } from "./mesh.js";
export { Session, type Message, type MessageHeader } from "./session.js";
export type { FunctionRef } from "./functions.js";
export { LocalCluster, type LocalClusterOptions, type LocalEngine, type EngineMode } from "./local-cluster.js";
export type { PortableEngineOptions } from "./engine-main.js";
