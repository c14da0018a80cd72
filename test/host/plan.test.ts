// The memory plan never lets two buffers that are live at the same time overlap.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { importTflite } from "../../host/import/tflite.ts";
import { lower, type Lowered } from "../../host/passes/lower.ts";
import { planMemory, type Plan } from "../../host/passes/plan.ts";
import type { Graph, Tensor } from "../../host/graph/graph.ts";
import { INT8_MODELS, modelPath, requireShared, xorshiftBytes } from "./shared.ts";

function assertNoOverlap(plan: Plan, what: string): void {
  const b = plan.buffers;
  for (let i = 0; i < b.length; i++) {
    assert.ok(b[i].offset >= 0 && b[i].offset % 4 === 0, `${what}: ${b[i].id} badly placed`);
    assert.ok(b[i].offset + b[i].bytes <= plan.arenaBytes);
    for (let j = i + 1; j < b.length; j++) {
      const live = b[i].first <= b[j].last && b[j].first <= b[i].last;
      const overlap = b[i].offset < b[j].offset + b[j].bytes && b[j].offset < b[i].offset + b[i].bytes;
      assert.ok(!(live && overlap), `${what}: ${b[i].id} and ${b[j].id} are live together and overlap`);
    }
  }
}

test("plans of the shared models have no overlapping live buffers", () => {
  requireShared();
  for (const name of INT8_MODELS) {
    const g = importTflite(readFileSync(modelPath(name)));
    assertNoOverlap(planMemory(g, lower(g)), name);
  }
});

/** A random chain-with-skips graph of int8 tensors, lowered by hand as ops reading and writing them. */
function randomGraph(seed: number): { g: Graph; l: Lowered } {
  const r = xorshiftBytes(seed, 256);
  let k = 0;
  const next = (n: number) => r[k++ % r.length] % n;
  const nOps = 2 + next(12);
  const tensors: Tensor[] = [];
  const mk = () => {
    const t: Tensor = { index: tensors.length, name: `t${tensors.length}`, shape: [1 + next(300)], dtype: "int8", scale: [1], zeroPoint: [0], quantizedDimension: 0, isVariable: false };
    tensors.push(t);
    return t.index;
  };
  const input = mk();
  const ops: Lowered["ops"] = [];
  const produced = [input];
  for (let i = 0; i < nOps; i++) {
    const reads = [produced[produced.length - 1 - next(Math.min(3, produced.length))]];
    if (next(2)) reads.push(produced[next(produced.length)]);
    const out = mk();
    ops.push({ kind: "ADD", source: i, sourceType: "ADD", fields: {}, reads, writes: [out], macs: 0,
      inPlaceInput: next(2) ? reads[0] : undefined });
    produced.push(out);
  }
  const g: Graph = { tensors, ops: [], inputs: [input], outputs: [produced[produced.length - 1]], description: "" };
  return { g, l: { ops, aliases: new Map() } };
}

test("random graphs: no two live buffers overlap, in-place or not", () => {
  for (let seed = 1; seed <= 300; seed++) {
    const { g, l } = randomGraph(seed);
    assertNoOverlap(planMemory(g, l), `seed ${seed}`);
  }
});
