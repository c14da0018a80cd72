// The imported model: tensors and ops as TFLite defines them, validated, with
// no tinyloop decisions in it yet. Passes read this; the importer writes it.

export type DType = "float32" | "float16" | "int32" | "uint8" | "int64" | "string" | "bool" | "int16" | "int8" | "other";
export type Activation = "NONE" | "RELU" | "RELU_N1_TO_1" | "RELU6" | "TANH" | "SIGN_BIT";
export type Padding = "SAME" | "VALID";

export interface Tensor {
  index: number;
  name: string;
  shape: number[];
  dtype: DType;
  /** Per-tensor quantization has one entry; per-channel one per channel along quantizedDimension. */
  scale: number[];
  zeroPoint: number[];
  quantizedDimension: number;
  /** Constant data (weights, biases, shape operands); undefined for activations. */
  data?: Uint8Array;
  isVariable: boolean;
}

export interface Op {
  index: number;
  /** TFLite builtin operator name, e.g. CONV_2D. */
  type: string;
  inputs: number[]; // -1 = optional input absent
  outputs: number[];
  options: Record<string, unknown>;
}

export interface Graph {
  tensors: Tensor[];
  ops: Op[];
  inputs: number[];
  outputs: number[];
  description: string;
}

export const DTYPE_BYTES: Record<DType, number> = {
  float32: 4, float16: 2, int32: 4, uint8: 1, int64: 8, string: 1, bool: 1, int16: 2, int8: 1, other: 1,
};

export function elementCount(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function tensorBytes(t: Tensor): number {
  return elementCount(t.shape) * DTYPE_BYTES[t.dtype];
}
