/** Devices: zeromq.js's Proxy (with libzmq's capture and control), pyzmq's MonitoredQueue, the classic devices. */
export { Proxy, type ProxyOptions, type DeviceStatistics, type SideStatistics } from "./proxy.js";
export { MonitoredQueue, type MonitoredQueueOptions, type PrefixLike } from "./monitored-queue.js";
export { queue, forwarder, streamer, type RunningProxy } from "./classic.js";
export { parseStatistics } from "./relay.js";
export {
  ThreadDevice, ProcessDevice,
  type DeviceKind, type SideType, type SideSpec, type BackgroundDeviceSpec, type BackgroundDeviceOptions, type DeviceEndpoints,
} from "./background.js";
