// Runs compiled models on NodeEngine for the plan tests (stages, patches): the outputs, with the
// engine's touched arena checked against the plan on every run.
import assert from "node:assert/strict";
import type { Compiled } from "../../host/compile.ts";
import { NodeEngine } from "../../host/runners/node-engine.ts";
import { tensorBytes, type Graph } from "../../host/graph/graph.ts";
import { xorshiftBytes } from "./shared.ts";

export function outputsOf(c: Compiled, inputs: Uint8Array[]): Uint8Array[] {
  const e = NodeEngine.load(c.blob);
  return inputs.map((input) => {
    e.setInput(input);
    e.invoke();
    assert.ok(e.peakBytes <= c.meta.plan.arenaBytes);
    return Uint8Array.from(e.output());
  });
}

/** One seeded input per seed for the graph's first input. */
export function inputsFor(g: Graph, seeds: number[]): Uint8Array[] {
  return seeds.map((s) => xorshiftBytes(s, tensorBytes(g.tensors[g.inputs[0]])));
}
