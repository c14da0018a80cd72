// The memory plan never lets two buffers that are live at the same time overlap.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { importTflite } from "../../host/import/tflite.ts";
import { lower, type Lowered } from "../../host/passes/lower.ts";
import { planMemory, planSmallestTiles, type Plan } from "../../host/passes/plan.ts";
import { chooseStages } from "../../host/passes/stages.ts";
import type { Graph, Tensor } from "../../host/graph/graph.ts";
import { INT8_MODELS, modelPath, requireShared, xorshiftBytes } from "./shared.ts";

function assertNoOverlap(plan: Plan, what: string, linked: [string, string][] = []): void {
  const b = plan.buffers;
  const exempt = (x: string, y: string) => linked.some(([p, q]) => (p === x && q === y) || (p === y && q === x));
  for (let i = 0; i < b.length; i++) {
    assert.ok(b[i].offset >= 0 && b[i].offset % 4 === 0, `${what}: ${b[i].id} badly placed`);
    assert.ok(b[i].offset + b[i].bytes <= plan.arenaBytes);
    for (let j = i + 1; j < b.length; j++) {
      const live = b[i].first <= b[j].last && b[j].first <= b[i].last;
      const overlap = b[i].offset < b[j].offset + b[j].bytes && b[j].offset < b[i].offset + b[i].bytes;
      if (exempt(b[i].id, b[j].id)) continue;
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

/** The buffer pairs ops write over (input dying at op i, output born there), which may overlap. */
function shiftLinks(plan: Plan, l: Lowered): [string, string][] {
  const at = (t: number, live: (b: Plan["buffers"][number]) => boolean) =>
    plan.buffers.find((b) => b.id.startsWith("t") && b.offset === plan.tensorOffset.get(t) && live(b))!.id;
  return l.ops.flatMap((op, i) => (op.shift ? [[at(op.shift.input, (b) => b.last === i), at(op.shift.output, (b) => b.first === i)] as [string, string]] : []));
}

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
  const output = produced[produced.length - 1];
  // Stage-like ops: scratch of their own, and some write their output `delta` below an input dying there.
  ops.forEach((op, i) => {
    if (next(3) === 0) op.scratchBytes = 4 + next(200);
    const x = op.reads[0];
    const dies = !ops.slice(i + 1).some((o) => o.reads.includes(x)) && x !== output && !ops.some((o) => o.inPlaceInput === x || o.writes.includes(x) && o.inPlaceInput !== undefined);
    if (dies && op.inPlaceInput === undefined && next(2)) op.shift = { input: x, output: op.writes[0], delta: 4 * next(40) };
  });
  const g: Graph = { tensors, ops: [], inputs: [input], outputs: [output], description: "" };
  return { g, l: { ops, aliases: new Map() } };
}

test("random graphs: no two live buffers overlap, in-place or not; an output written over its input sits exactly delta below it", () => {
  let shifted = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const { g, l } = randomGraph(seed);
    const plan = planMemory(g, l);
    const linked = shiftLinks(plan, l);
    l.ops.forEach((op, i) => {
      if (!op.shift) return;
      shifted++;
      assert.equal(plan.tensorOffset.get(op.shift.input)! - plan.tensorOffset.get(op.shift.output)!, op.shift.delta, `seed ${seed} op ${i}`);
    });
    assertNoOverlap(plan, `seed ${seed}`, linked);
  }
  assert.ok(shifted > 50, `${shifted} ops wrote over their input`);
});

test("the shared models' staged plans (--patch auto): nothing overlaps but a stage's output over its dying input", () => {
  requireShared();
  for (const name of INT8_MODELS) {
    const g = importTflite(readFileSync(modelPath(name)));
    const l = chooseStages(g, lower(g), (x) => planSmallestTiles(g, x));
    const plan = planMemory(g, l);
    assertNoOverlap(plan, name, shiftLinks(plan, l));
  }
});
