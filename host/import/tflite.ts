// Reads a .tflite flatbuffer into a validated Graph. Anything malformed becomes a
// FormatError naming the tensor, op or field; nothing here trusts an offset.
import { FormatError, Table, rootTable } from "./checked-flatbuffer.ts";
import * as S from "./tflite-schema.ts";
import { type Graph, type Op, type Tensor, type DType, type Activation, type Padding, tensorBytes } from "../graph/graph.ts";

export { FormatError };

export function importTflite(bytes: Uint8Array, what = "model"): Graph {
  const model = rootTable(bytes, S.FILE_IDENTIFIER, `${what} is not a TFLite model`);
  const version = model.uint32(S.MODEL.version);
  if (version !== 3) throw new FormatError(`${what}: TFLite schema version ${version}, expected 3`);

  const buffers = model.tables(S.MODEL.buffers, (i) => `${what}: buffer ${i}`).map((b) => {
    const offset = b.field(S.BUFFER.offset) ? Number(b.bb.readUint64(b.field(S.BUFFER.offset))) : 0;
    if (offset > 1) throw new FormatError(`${b.where} stores its data outside the flatbuffer (models over 2 GB); not supported`);
    return b.bytes(S.BUFFER.data, "data");
  });

  const opTypes = model.tables(S.MODEL.operatorCodes, (i) => `${what}: operator code ${i}`).map((c) => {
    const code = Math.max(c.int32(S.OPERATOR_CODE.builtinCode), c.int8(S.OPERATOR_CODE.deprecatedBuiltinCode));
    if (code === 32) return `CUSTOM(${c.string(S.OPERATOR_CODE.customCode)})`;
    return S.BUILTIN_OPS[code] ?? `BUILTIN_${code}`;
  });

  const subgraphs = model.tables(S.MODEL.subgraphs, (i) => `${what}: subgraph ${i}`);
  if (subgraphs.length === 0) throw new FormatError(`${what}: the model has no subgraph`);
  const sg = subgraphs[0];

  const tensors = sg.tables(S.SUBGRAPH.tensors, (i) => `${what}: tensor ${i}`).map((t, index) =>
    readTensor(t, index, buffers));
  const checkIndex = (i: number, where: string, optional: boolean) => {
    if ((optional && i === -1) || (Number.isInteger(i) && i >= 0 && i < tensors.length)) return i;
    throw new FormatError(`${what}: ${where} names tensor ${i}, but the subgraph has ${tensors.length} tensors`);
  };

  const ops: Op[] = sg.tables(S.SUBGRAPH.operators, (i) => `${what}: op ${i}`).map((o, index) => {
    const opcode = o.uint32(S.OPERATOR.opcodeIndex);
    if (opcode >= opTypes.length) {
      throw new FormatError(`${what}: op ${index} uses operator code ${opcode}, but the model defines ${opTypes.length}`);
    }
    const type = opTypes[opcode];
    const where = `op ${index} (${type})`;
    return {
      index,
      type,
      inputs: o.int32s(S.OPERATOR.inputs, "inputs").map((i) => checkIndex(i, `${where} input`, true)),
      outputs: o.int32s(S.OPERATOR.outputs, "outputs").map((i) => checkIndex(i, `${where} output`, false)),
      options: readOptions(type, o.table(S.OPERATOR.builtinOptions, `${what}: ${where} options`)),
    };
  });

  const inputs = sg.int32s(S.SUBGRAPH.inputs).map((i) => checkIndex(i, "subgraph input", false));
  const outputs = sg.int32s(S.SUBGRAPH.outputs).map((i) => checkIndex(i, "subgraph output", false));
  if (inputs.length === 0 || outputs.length === 0) throw new FormatError(`${what}: the subgraph has no inputs or no outputs`);
  return { tensors, ops, inputs, outputs, description: model.string(S.MODEL.description) };
}

function readTensor(t: Table, index: number, buffers: Uint8Array[]): Tensor {
  const name = t.string(S.TENSOR.name);
  const where = `tensor ${index} "${name}"`;
  const typeCode = t.int8(S.TENSOR.type);
  const dtype: DType = S.TENSOR_TYPES[typeCode] ?? "other";
  const shape = t.int32s(S.TENSOR.shape, "shape");
  for (const d of shape) {
    if (!Number.isInteger(d) || d <= 0) throw new FormatError(`${t.where}: ${where} has shape [${shape}] with a dimension that is not positive`);
  }
  const q = t.table(S.TENSOR.quantization, `${t.where} quantization`);
  const scale = q ? q.float32s(S.QUANTIZATION.scale, "scale") : [];
  const zeroPoint = q ? q.int64s(S.QUANTIZATION.zeroPoint, "zero_point") : [];
  const quantizedDimension = q ? q.int32(S.QUANTIZATION.quantizedDimension) : 0;
  if (scale.some((s) => !(s > 0) || !Number.isFinite(s))) throw new FormatError(`${t.where}: ${where} has a scale that is not a positive finite number`);
  if (scale.length !== zeroPoint.length && zeroPoint.length !== 0) {
    throw new FormatError(`${t.where}: ${where} has ${scale.length} scales but ${zeroPoint.length} zero points`);
  }
  const bufferIndex = t.uint32(S.TENSOR.buffer);
  if (bufferIndex >= buffers.length) throw new FormatError(`${t.where}: ${where} uses buffer ${bufferIndex}, but the model has ${buffers.length}`);
  const raw = buffers[bufferIndex];
  const tensor: Tensor = {
    index, name, shape, dtype, scale, zeroPoint: zeroPoint.length ? zeroPoint : scale.map(() => 0),
    quantizedDimension, isVariable: t.bool(S.TENSOR.isVariable),
  };
  if (bufferIndex !== 0 && raw.length > 0) {
    if (raw.length !== tensorBytes(tensor)) {
      throw new FormatError(`${t.where}: ${where} has ${raw.length} bytes of data but shape [${shape}] of ${dtype} needs ${tensorBytes(tensor)}`);
    }
    tensor.data = raw;
  }
  return tensor;
}

function enumName<T extends readonly string[]>(values: T, code: number, what: string): T[number] {
  const v = values[code];
  if (v === undefined) throw new FormatError(`${what} has unknown value ${code}`);
  return v;
}

function readOptions(type: string, o: Table | null): Record<string, unknown> {
  if (!o) return {};
  const act = (slot: number): Activation => enumName(S.ACTIVATIONS, o.int8(slot), `${o.where} fused activation`);
  const pad = (slot: number): Padding => enumName(S.PADDINGS, o.int8(slot), `${o.where} padding`);
  switch (type) {
    case "CONV_2D": {
      const f = S.OPTIONS.conv;
      return { padding: pad(f.padding), strideW: o.int32(f.strideW), strideH: o.int32(f.strideH),
        activation: act(f.activation), dilationW: o.int32(f.dilationW, 1), dilationH: o.int32(f.dilationH, 1) };
    }
    case "DEPTHWISE_CONV_2D": {
      const f = S.OPTIONS.depthwise;
      return { padding: pad(f.padding), strideW: o.int32(f.strideW), strideH: o.int32(f.strideH),
        depthMultiplier: o.int32(f.depthMultiplier), activation: act(f.activation),
        dilationW: o.int32(f.dilationW, 1), dilationH: o.int32(f.dilationH, 1) };
    }
    case "AVERAGE_POOL_2D":
    case "MAX_POOL_2D": {
      const f = S.OPTIONS.pool;
      return { padding: pad(f.padding), strideW: o.int32(f.strideW), strideH: o.int32(f.strideH),
        filterW: o.int32(f.filterW), filterH: o.int32(f.filterH), activation: act(f.activation) };
    }
    case "FULLY_CONNECTED": {
      const f = S.OPTIONS.fullyConnected;
      return { activation: act(f.activation), weightsFormat: o.int8(f.weightsFormat), keepNumDims: o.bool(f.keepNumDims) };
    }
    case "SOFTMAX": return { beta: o.float32(S.OPTIONS.softmax.beta) };
    case "ADD": return { activation: act(S.OPTIONS.add.activation) };
    case "MUL": return { activation: act(S.OPTIONS.mul.activation) };
    case "CONCATENATION": return { axis: o.int32(S.OPTIONS.concatenation.axis), activation: act(S.OPTIONS.concatenation.activation) };
    case "RESHAPE": return { newShape: o.int32s(S.OPTIONS.reshape.newShape, "new_shape") };
    case "MEAN": return { keepDims: o.bool(S.OPTIONS.reducer.keepDims) };
    default: return {};
  }
}
