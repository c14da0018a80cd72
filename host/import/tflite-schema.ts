// Facts of the TFLite flatbuffer schema that the importer needs: field slots
// (declaration order in schema.fbs) and enum values. Only what tinyloop reads.

export const FILE_IDENTIFIER = "TFL3";

export const MODEL = { version: 0, operatorCodes: 1, subgraphs: 2, description: 3, buffers: 4 };
export const OPERATOR_CODE = { deprecatedBuiltinCode: 0, customCode: 1, version: 2, builtinCode: 3 };
export const SUBGRAPH = { tensors: 0, inputs: 1, outputs: 2, operators: 3, name: 4 };
export const TENSOR = { shape: 0, type: 1, buffer: 2, name: 3, quantization: 4, isVariable: 5, sparsity: 6 };
export const QUANTIZATION = { min: 0, max: 1, scale: 2, zeroPoint: 3, detailsType: 4, details: 5, quantizedDimension: 6 };
export const OPERATOR = { opcodeIndex: 0, inputs: 1, outputs: 2, builtinOptionsType: 3, builtinOptions: 4 };
export const BUFFER = { data: 0, offset: 1, size: 2 };

export const TENSOR_TYPES = [
  "float32", "float16", "int32", "uint8", "int64", "string", "bool", "int16", "other", "int8",
] as const;

export const ACTIVATIONS = ["NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH", "SIGN_BIT"] as const;
export const PADDINGS = ["SAME", "VALID"] as const;

/** BuiltinOperator values for the operators tinyloop knows by name. */
export const BUILTIN_OPS: Record<number, string> = {
  0: "ADD", 1: "AVERAGE_POOL_2D", 2: "CONCATENATION", 3: "CONV_2D", 4: "DEPTHWISE_CONV_2D",
  5: "DEPTH_TO_SPACE", 6: "DEQUANTIZE", 7: "EMBEDDING_LOOKUP", 8: "FLOOR", 9: "FULLY_CONNECTED",
  10: "HASHTABLE_LOOKUP", 11: "L2_NORMALIZATION", 12: "L2_POOL_2D", 13: "LOCAL_RESPONSE_NORMALIZATION",
  14: "LOGISTIC", 15: "LSH_PROJECTION", 16: "LSTM", 17: "MAX_POOL_2D", 18: "MUL", 19: "RELU",
  20: "RELU_N1_TO_1", 21: "RELU6", 22: "RESHAPE", 23: "RESIZE_BILINEAR", 24: "RNN", 25: "SOFTMAX",
  26: "SPACE_TO_DEPTH", 27: "SVDF", 28: "TANH", 32: "CUSTOM", 34: "PAD", 36: "GATHER",
  37: "BATCH_TO_SPACE_ND", 38: "SPACE_TO_BATCH_ND", 39: "TRANSPOSE", 40: "MEAN", 41: "SUB", 42: "DIV",
  43: "SQUEEZE", 49: "SPLIT", 53: "CAST", 54: "PRELU", 55: "MAXIMUM", 57: "ARG_MAX", 58: "MINIMUM",
  60: "PADV2", 74: "SUM", 83: "PACK", 88: "UNPACK", 97: "RESIZE_NEAREST_NEIGHBOR", 98: "LEAKY_RELU",
  114: "QUANTIZE", 117: "HARD_SWISH", 126: "BATCH_MATMUL",
};

/** Option table slots per operator (declaration order of each *Options table). */
export const OPTIONS = {
  conv: { padding: 0, strideW: 1, strideH: 2, activation: 3, dilationW: 4, dilationH: 5 },
  depthwise: { padding: 0, strideW: 1, strideH: 2, depthMultiplier: 3, activation: 4, dilationW: 5, dilationH: 6 },
  pool: { padding: 0, strideW: 1, strideH: 2, filterW: 3, filterH: 4, activation: 5 },
  fullyConnected: { activation: 0, weightsFormat: 1, keepNumDims: 2 },
  softmax: { beta: 0 },
  add: { activation: 0 },
  mul: { activation: 0 },
  concatenation: { axis: 0, activation: 1 },
  reshape: { newShape: 0 },
  reducer: { keepDims: 0 },
} as const;
