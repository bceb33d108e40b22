/** Typed arrays over sockets with numpy's dtype and shape (pyzmq's send_array / recv_array recipe). */
export { sendArray, receiveArray, encodeArray, decodeArray } from "./send-receive.js";
export type {
  ArrayWritable, ArrayReadable, ShapedArray, SendArrayOptions, ReceiveArrayOptions, ArrayMetadata, ReceivedArray,
  ArrayProtocolError,
} from "./send-receive.js";
export { parseDType, dtypeOf, arrayTypeFor, isTypedArray, dtypeNames, hostByteOrder } from "./dtype.js";
export type { DType, DTypeName, ByteOrder, TypedArray, TypedArrayConstructor } from "./dtype.js";
