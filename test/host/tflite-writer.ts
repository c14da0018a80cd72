// Writes a small .tflite flatbuffer (schema version 3, identifier "TFL3") from a
// plain description, for synthetic test models. Our own code: the slot numbers
// and enum values below are facts of TFLite's schema.fbs (field declaration
// order; union members in declaration order, NONE = 0), checked against
// tensorflow/lite/schema/schema_generated.h at tflite-micro 90b983c2.
import * as flatbuffers from "flatbuffers";

export type WriterDType = "float32" | "int32" | "int8" | "int16" | "uint8" | "int64" | "bool";

export interface TensorDesc {
  name?: string;
  shape: number[];
  dtype: WriterDType;
  /** Empty or absent: no quantization table. */
  scale?: number[];
  zeroPoint?: number[];
  quantizedDimension?: number;
  /** Constant contents (little-endian raw bytes); absent for activations. */
  data?: Uint8Array;
}

export type OptionValue = number | boolean | string | number[];

export interface OpDesc {
  /** BuiltinOperator name, e.g. "CONV_2D". */
  type: string;
  inputs: number[]; // -1 = absent optional input
  outputs: number[];
  options?: Record<string, OptionValue>;
}

export interface ModelDesc {
  tensors: TensorDesc[];
  ops: OpDesc[];
  inputs: number[];
  outputs: number[];
  description?: string;
}

// ---- schema facts ---------------------------------------------------------------

/** TensorType enum. */
const TENSOR_TYPE: Record<WriterDType, number> = {
  float32: 0, int32: 2, uint8: 3, int64: 4, bool: 6, int16: 7, int8: 9,
};

/** Padding and ActivationFunctionType enums. */
const PADDING: Record<string, number> = { SAME: 0, VALID: 1 };
const ACTIVATION: Record<string, number> = { NONE: 0, RELU: 1, RELU_N1_TO_1: 2, RELU6: 3, TANH: 4, SIGN_BIT: 5 };

// Table slots (field index in declaration order; the builder turns them into vtable offsets 4 + 2*slot).
const MODEL = { version: 0, operatorCodes: 1, subgraphs: 2, description: 3, buffers: 4, numFields: 5 };
const OPERATOR_CODE = { deprecatedBuiltinCode: 0, customCode: 1, version: 2, builtinCode: 3, numFields: 4 };
const SUBGRAPH = { tensors: 0, inputs: 1, outputs: 2, operators: 3, name: 4, numFields: 5 };
const TENSOR = { shape: 0, type: 1, buffer: 2, name: 3, quantization: 4, numFields: 5 };
// details is a union (type slot 4, value slot 5), so quantized_dimension is slot 6.
const QUANTIZATION = { min: 0, max: 1, scale: 2, zeroPoint: 3, quantizedDimension: 6, numFields: 7 };
// builtin_options is a union: its type byte is slot 3, the table slot 4.
const OPERATOR = { opcodeIndex: 0, inputs: 1, outputs: 2, builtinOptionsType: 3, builtinOptions: 4, numFields: 5 };
const BUFFER = { data: 0, numFields: 1 };

type FieldKind = "padding" | "activation" | "int32" | "float32" | "bool" | "int32s";
interface OptionsSchema {
  /** BuiltinOptions union member code. */
  union: number;
  /** option name -> [slot, kind, schema default] */
  fields: Record<string, [number, FieldKind, OptionValue]>;
}

const CONV_OPTIONS: OptionsSchema = { union: 1, fields: {
  padding: [0, "padding", "SAME"], strideW: [1, "int32", 0], strideH: [2, "int32", 0], activation: [3, "activation", "NONE"],
  dilationW: [4, "int32", 1], dilationH: [5, "int32", 1] } };
const DEPTHWISE_OPTIONS: OptionsSchema = { union: 2, fields: {
  padding: [0, "padding", "SAME"], strideW: [1, "int32", 0], strideH: [2, "int32", 0], depthMultiplier: [3, "int32", 0],
  activation: [4, "activation", "NONE"], dilationW: [5, "int32", 1], dilationH: [6, "int32", 1] } };
const POOL_OPTIONS: OptionsSchema = { union: 5, fields: {
  padding: [0, "padding", "SAME"], strideW: [1, "int32", 0], strideH: [2, "int32", 0], filterW: [3, "int32", 0],
  filterH: [4, "int32", 0], activation: [5, "activation", "NONE"] } };

/** BuiltinOperator code and options table of each operator the writer knows. */
export const OPERATORS: Record<string, { code: number; options: OptionsSchema }> = {
  ADD: { code: 0, options: { union: 11, fields: { activation: [0, "activation", "NONE"] } } },
  AVERAGE_POOL_2D: { code: 1, options: POOL_OPTIONS },
  CONCATENATION: { code: 2, options: { union: 10, fields: { axis: [0, "int32", 0], activation: [1, "activation", "NONE"] } } },
  CONV_2D: { code: 3, options: CONV_OPTIONS },
  DEPTHWISE_CONV_2D: { code: 4, options: DEPTHWISE_OPTIONS },
  DEQUANTIZE: { code: 6, options: { union: 38, fields: {} } },
  FULLY_CONNECTED: { code: 9, options: { union: 8, fields: {
    activation: [0, "activation", "NONE"], weightsFormat: [1, "int32", 0], keepNumDims: [2, "bool", false] } } },
  MAX_POOL_2D: { code: 17, options: POOL_OPTIONS },
  MUL: { code: 18, options: { union: 21, fields: { activation: [0, "activation", "NONE"] } } },
  RESHAPE: { code: 22, options: { union: 17, fields: { newShape: [0, "int32s", []] } } },
  SOFTMAX: { code: 25, options: { union: 9, fields: { beta: [0, "float32", 0] } } },
  PAD: { code: 34, options: { union: 22, fields: {} } },
  MEAN: { code: 40, options: { union: 27, fields: { keepDims: [0, "bool", false] } } },
  SQUEEZE: { code: 43, options: { union: 30, fields: { squeezeDims: [0, "int32s", []] } } },
  PADV2: { code: 60, options: { union: 43, fields: {} } },
  QUANTIZE: { code: 114, options: { union: 89, fields: {} } },
};

// FullyConnectedOptionsWeightsFormat is a byte enum; every other int32 option is an int.
const BYTE_FIELDS = new Set(["weightsFormat"]);

// ---- writer ---------------------------------------------------------------------

export function writeTflite(desc: ModelDesc): Uint8Array {
  const b = new flatbuffers.Builder(1024);

  const int32Vector = (values: number[]) => {
    b.startVector(4, values.length, 4);
    for (let i = values.length - 1; i >= 0; i--) b.addInt32(values[i]);
    return b.endVector();
  };
  const float32Vector = (values: number[]) => {
    b.startVector(4, values.length, 4);
    for (let i = values.length - 1; i >= 0; i--) b.addFloat32(values[i]);
    return b.endVector();
  };
  const int64Vector = (values: number[]) => {
    b.startVector(8, values.length, 8);
    for (let i = values.length - 1; i >= 0; i--) b.addInt64(BigInt(values[i]));
    return b.endVector();
  };
  const offsetVector = (offsets: number[]) => {
    b.startVector(4, offsets.length, 4);
    for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i]);
    return b.endVector();
  };

  // Buffers: 0 is the empty sentinel; every constant tensor gets its own.
  const bufferData: (Uint8Array | null)[] = [null];
  const tensorBuffer = desc.tensors.map((t) => {
    if (!t.data) return 0;
    bufferData.push(t.data);
    return bufferData.length - 1;
  });
  const bufferOffsets = bufferData.map((data) => {
    let dataOffset = 0;
    if (data) {
      b.startVector(1, data.length, 16); // data:[ubyte] (force_align: 16)
      for (let i = data.length - 1; i >= 0; i--) b.addInt8(data[i]);
      dataOffset = b.endVector();
    }
    b.startObject(BUFFER.numFields);
    if (data) b.addFieldOffset(BUFFER.data, dataOffset, 0);
    return b.endObject();
  });

  const tensorOffsets = desc.tensors.map((t, i) => {
    const name = b.createString(t.name ?? `t${i}`);
    const shape = int32Vector(t.shape);
    let quant = 0;
    if (t.scale && t.scale.length > 0) {
      const scale = float32Vector(t.scale);
      const zp = int64Vector(t.zeroPoint ?? t.scale.map(() => 0));
      b.startObject(QUANTIZATION.numFields);
      b.addFieldOffset(QUANTIZATION.scale, scale, 0);
      b.addFieldOffset(QUANTIZATION.zeroPoint, zp, 0);
      b.addFieldInt32(QUANTIZATION.quantizedDimension, t.quantizedDimension ?? 0, 0);
      quant = b.endObject();
    }
    const type = TENSOR_TYPE[t.dtype];
    if (type === undefined) throw new Error(`tensor ${i}: unknown dtype ${t.dtype}`);
    b.startObject(TENSOR.numFields);
    b.addFieldOffset(TENSOR.shape, shape, 0);
    b.addFieldInt8(TENSOR.type, type, 0);
    b.addFieldInt32(TENSOR.buffer, tensorBuffer[i], 0);
    b.addFieldOffset(TENSOR.name, name, 0);
    if (quant) b.addFieldOffset(TENSOR.quantization, quant, 0);
    return b.endObject();
  });

  // Operator codes: one per distinct operator, in order of first use.
  const opTypes: string[] = [];
  for (const op of desc.ops) if (!opTypes.includes(op.type)) opTypes.push(op.type);
  const opCodeOffsets = opTypes.map((type) => {
    const info = OPERATORS[type];
    if (!info) throw new Error(`the writer does not know operator ${type}`);
    b.startObject(OPERATOR_CODE.numFields);
    b.addFieldInt8(OPERATOR_CODE.deprecatedBuiltinCode, Math.min(info.code, 127), 0); // 127 = PLACEHOLDER_FOR_GREATER_OP_CODES
    b.addFieldInt32(OPERATOR_CODE.version, 1, 1);
    b.addFieldInt32(OPERATOR_CODE.builtinCode, info.code, 0);
    return b.endObject();
  });

  const operatorOffsets = desc.ops.map((op, k) => {
    const info = OPERATORS[op.type];
    const options = writeOptions(b, op, k, info.options, int32Vector);
    const inputs = int32Vector(op.inputs);
    const outputs = int32Vector(op.outputs);
    b.startObject(OPERATOR.numFields);
    b.addFieldInt32(OPERATOR.opcodeIndex, opTypes.indexOf(op.type), 0);
    b.addFieldOffset(OPERATOR.inputs, inputs, 0);
    b.addFieldOffset(OPERATOR.outputs, outputs, 0);
    b.addFieldInt8(OPERATOR.builtinOptionsType, info.options.union, 0);
    b.addFieldOffset(OPERATOR.builtinOptions, options, 0);
    return b.endObject();
  });

  const sgTensors = offsetVector(tensorOffsets);
  const sgInputs = int32Vector(desc.inputs);
  const sgOutputs = int32Vector(desc.outputs);
  const sgOperators = offsetVector(operatorOffsets);
  const sgName = b.createString("main");
  b.startObject(SUBGRAPH.numFields);
  b.addFieldOffset(SUBGRAPH.tensors, sgTensors, 0);
  b.addFieldOffset(SUBGRAPH.inputs, sgInputs, 0);
  b.addFieldOffset(SUBGRAPH.outputs, sgOutputs, 0);
  b.addFieldOffset(SUBGRAPH.operators, sgOperators, 0);
  b.addFieldOffset(SUBGRAPH.name, sgName, 0);
  const subgraph = b.endObject();

  const opCodes = offsetVector(opCodeOffsets);
  const subgraphs = offsetVector([subgraph]);
  const description = b.createString(desc.description ?? "tinyloop synthetic test model");
  const buffers = offsetVector(bufferOffsets);
  b.startObject(MODEL.numFields);
  b.addFieldInt32(MODEL.version, 3, 0);
  b.addFieldOffset(MODEL.operatorCodes, opCodes, 0);
  b.addFieldOffset(MODEL.subgraphs, subgraphs, 0);
  b.addFieldOffset(MODEL.description, description, 0);
  b.addFieldOffset(MODEL.buffers, buffers, 0);
  b.finish(b.endObject(), "TFL3");
  return b.asUint8Array().slice();
}

function writeOptions(
  b: flatbuffers.Builder, op: OpDesc, k: number, schema: OptionsSchema, int32Vector: (v: number[]) => number,
): number {
  const given = op.options ?? {};
  for (const name of Object.keys(given)) {
    if (!(name in schema.fields)) throw new Error(`op ${k} (${op.type}): unknown option ${name}`);
  }
  // Vectors must be written before the table starts.
  const vectors: Record<string, number> = {};
  for (const [name, [, kind]] of Object.entries(schema.fields)) {
    if (kind === "int32s" && given[name] !== undefined) vectors[name] = int32Vector(given[name] as number[]);
  }
  b.startObject(Math.max(0, ...Object.values(schema.fields).map(([slot]) => slot + 1)));
  for (const [name, [slot, kind, dflt]] of Object.entries(schema.fields)) {
    const v = given[name] ?? dflt;
    const enumValue = (table: Record<string, number>) => {
      const code = table[v as string];
      if (code === undefined) throw new Error(`op ${k} (${op.type}): ${name} has unknown value ${v}`);
      return code;
    };
    switch (kind) {
      case "padding": b.addFieldInt8(slot, enumValue(PADDING), null); break; // null default: always written
      case "activation": b.addFieldInt8(slot, enumValue(ACTIVATION), null); break;
      case "int32":
        if (BYTE_FIELDS.has(name)) b.addFieldInt8(slot, v as number, dflt as number);
        else b.addFieldInt32(slot, v as number, null);
        break;
      case "float32": b.addFieldFloat32(slot, v as number, null); break;
      case "bool": b.addFieldInt8(slot, v ? 1 : 0, null); break;
      case "int32s": if (vectors[name] !== undefined) b.addFieldOffset(slot, vectors[name], 0); break;
    }
  }
  return b.endObject();
}
