// Host quantization math against values worked out by hand from TFLite's definitions.
import { test } from "node:test";
import assert from "node:assert/strict";
import { frexp, quantizeMultiplier, activationRange, outputSize, leadingPadding, roundHalfAway } from "../../host/passes/tflite-quant.ts";

test("frexp splits into [0.5, 1) and an exponent", () => {
  assert.deepEqual(frexp(1), [0.5, 1]);
  assert.deepEqual(frexp(0.75), [0.75, 0]);
  assert.deepEqual(frexp(0.1), [0.8, -3]);
  assert.deepEqual(frexp(2 ** -40), [0.5, -39]);
});

test("quantizeMultiplier matches TFLite's Q31 significand and shift", () => {
  assert.deepEqual(quantizeMultiplier(0.5), [2 ** 30, 0]);
  assert.deepEqual(quantizeMultiplier(1), [2 ** 30, 1]);
  assert.deepEqual(quantizeMultiplier(0), [0, 0]);
  // 0.1 = 0.8 * 2^-3; round(0.8 * 2^31) = 1717986918
  assert.deepEqual(quantizeMultiplier(0.1), [1717986918, -3]);
  // a significand that rounds up to 2^31 moves to the next exponent
  assert.deepEqual(quantizeMultiplier(1 - 2 ** -40), [2 ** 30, 1]);
  // underflow below 2^-31 becomes zero
  assert.deepEqual(quantizeMultiplier(2 ** -40), [0, 0]);
});

test("activation ranges follow the output quantization", () => {
  assert.deepEqual(activationRange("NONE", 0.1, 3), [-128, 127]);
  assert.deepEqual(activationRange("RELU", 0.1, -128), [-128, 127]);
  assert.deepEqual(activationRange("RELU", 0.1, 5), [5, 127]);
  assert.deepEqual(activationRange("RELU6", 0.05, -128), [-128, -8]); // 6/0.05 = 120 -> -8
  assert.deepEqual(activationRange("RELU6", 0.01, 0), [0, 127]);
  assert.deepEqual(activationRange("RELU_N1_TO_1", 0.25, 0), [-4, 4]);
});

test("SAME and VALID output sizes and leading padding", () => {
  assert.equal(outputSize("SAME", 96, 3, 2), 48);
  assert.equal(leadingPadding(96, 3, 2, 1, 48), 0); // total padding 1 -> 0 before, 1 after
  assert.equal(outputSize("VALID", 10, 3, 1), 8);
  assert.equal(outputSize("SAME", 10, 3, 1, 2), 10);
  assert.equal(leadingPadding(10, 3, 1, 2, 10), 2);
  assert.equal(roundHalfAway(-2.5), -3);
  assert.equal(roundHalfAway(2.5), 3);
});
