// `npm run demo`: the main job for a newcomer — compile the MLPerf Tiny visual wake
// words model, show its plan, run it on a golden input and compare with TFLM's bytes.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO, SHARED, modelPath, requireShared } from "../test/host/shared.ts";

requireShared();
const model = process.argv[2] ?? "vww_96_int8";
const tmp = mkdtempSync(join(tmpdir(), "tinyloop-demo-"));
const cli = (...args: string[]) => {
  console.log(`$ tinyloop ${args.join(" ")}`);
  const r = spawnSync(process.execPath, [join(REPO, "bin/tinyloop.mjs"), ...args], { stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
const golden = join(SHARED, "golden", model);
cli("inspect", modelPath(model));
cli("run", modelPath(model), "--input", join(golden, "input_1.bin"), "--output", join(tmp, "out.bin"));
const got = readFileSync(join(tmp, "out.bin"));
const want = readFileSync(join(golden, "output_1.bin"));
const same = got.equals(want);
console.log(`\noutput ${[...new Int8Array(got.buffer, got.byteOffset, got.length)].join(", ")} — ${same ? "byte-identical with TensorFlow Lite Micro" : "DIFFERS from TensorFlow Lite Micro"}`);
process.exit(same ? 0 : 1);
