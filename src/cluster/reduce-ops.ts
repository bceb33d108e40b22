/**
 * The reductions of the mesh's collectives: each combines two arrays of the same
 * dtype and length element by element, in place into the first (the accumulator), so
 * a collective reduces into one working buffer and never allocates per step.
 *
 * Integer arrays wrap as C does (the typed array's store does it; 32-bit products go
 * through Math.imul, since a double product of two 32-bit values is not exact).
 * min and max propagate NaN, as numpy's minimum/maximum do.
 *
 * A custom op is `(into, other) => void` and must be associative and commutative:
 * the tree and the ring combine the ranks' contributions in different orders.
 */
import type { TypedArray } from "../index.js";
import { ClusterError } from "./errors.js";

export type Reducer = (into: TypedArray, other: TypedArray) => void;
export type ReduceOp = "sum" | "prod" | "min" | "max" | Reducer;

/** A number array's elements, whatever its kind (the union's index type is number | bigint). */
type Numbers = { [i: number]: number; readonly length: number };
type Bigints = { [i: number]: bigint; readonly length: number };

const isBig = (a: TypedArray): boolean => a instanceof BigInt64Array || a instanceof BigUint64Array;
const is32 = (a: TypedArray): boolean => a instanceof Int32Array || a instanceof Uint32Array;

function sum(into: TypedArray, other: TypedArray): void {
  if (isBig(into)) {
    const a = into as unknown as Bigints, b = other as unknown as Bigints;
    for (let i = 0; i < a.length; i++) a[i] = a[i]! + b[i]!;
    return;
  }
  const a = into as unknown as Numbers, b = other as unknown as Numbers;
  for (let i = 0; i < a.length; i++) a[i] = a[i]! + b[i]!;
}

function prod(into: TypedArray, other: TypedArray): void {
  if (isBig(into)) {
    const a = into as unknown as Bigints, b = other as unknown as Bigints;
    for (let i = 0; i < a.length; i++) a[i] = a[i]! * b[i]!;
    return;
  }
  const a = into as unknown as Numbers, b = other as unknown as Numbers;
  if (is32(into)) {
    for (let i = 0; i < a.length; i++) a[i] = Math.imul(a[i]!, b[i]!);
    return;
  }
  for (let i = 0; i < a.length; i++) a[i] = a[i]! * b[i]!;
}

function min(into: TypedArray, other: TypedArray): void {
  if (isBig(into)) {
    const a = into as unknown as Bigints, b = other as unknown as Bigints;
    for (let i = 0; i < a.length; i++) if (b[i]! < a[i]!) a[i] = b[i]!;
    return;
  }
  const a = into as unknown as Numbers, b = other as unknown as Numbers;
  for (let i = 0; i < a.length; i++) {
    const y = b[i]!;
    if (y < a[i]! || y !== y) a[i] = y; // y !== y: NaN wins
  }
}

function max(into: TypedArray, other: TypedArray): void {
  if (isBig(into)) {
    const a = into as unknown as Bigints, b = other as unknown as Bigints;
    for (let i = 0; i < a.length; i++) if (b[i]! > a[i]!) a[i] = b[i]!;
    return;
  }
  const a = into as unknown as Numbers, b = other as unknown as Numbers;
  for (let i = 0; i < a.length; i++) {
    const y = b[i]!;
    if (y > a[i]! || y !== y) a[i] = y;
  }
}

const builtIn = new Map<string, Reducer>([["sum", sum], ["prod", prod], ["min", min], ["max", max]]);

/** The function behind an op name (or the custom function itself). */
export function reducerFor(op: ReduceOp): Reducer {
  if (typeof op === "function") return op;
  const fn = builtIn.get(op);
  if (!fn) throw new ClusterError("EINVAL", `unknown reduce op ${JSON.stringify(op)}: use "sum", "prod", "min", "max" or a function (into, other) => void`);
  return fn;
}
