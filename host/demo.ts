// `npm run demo`: the main job for a newcomer. Compile the MLPerf Tiny visual wake words
// model, show its plan, run it on the virtual Cortex-M4 board (QEMU) and on the host, check
// both against TensorFlow Lite Micro's bytes, and benchmark it on the board.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO, SHARED, modelPath, requireShared } from "./util/shared-models.ts";

requireShared();
const model = process.argv[2] ?? "vww_96_int8";
const board = process.argv[3] ?? "qemu-m4";
const tmp = mkdtempSync(join(tmpdir(), "tinyloop-demo-"));
const cli = (...args: string[]) => {
  console.log(`\n$ tinyloop ${args.join(" ")}`);
  const r = spawnSync(process.execPath, [join(REPO, "bin/tinyloop.mjs"), ...args], { stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
const golden = join(SHARED, "golden", model);
const want = readFileSync(join(golden, "output_1.bin"));
let allSame = true;
const check = (where: string, file: string) => {
  const got = readFileSync(file);
  const same = got.equals(want);
  allSame &&= same;
  console.log(`${where}: output ${[...new Int8Array(got.buffer, got.byteOffset, got.length)].join(", ")} — ${same ? "byte-identical with TensorFlow Lite Micro" : "DIFFERS from TensorFlow Lite Micro"}`);
};

cli("inspect", modelPath(model));
cli("run", modelPath(model), "--board", board, "--input", join(golden, "input_1.bin"), "--output", join(tmp, "board.bin"));
check(board, join(tmp, "board.bin"));
cli("run", modelPath(model), "--input", join(golden, "input_1.bin"), "--output", join(tmp, "host.bin"));
check("host", join(tmp, "host.bin"));
cli("bench", modelPath(model), "--board", board, "--runs", "1");
process.exit(allSame ? 0 : 1);
