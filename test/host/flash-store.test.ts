// The flash model store's logic (firmware/hal/store-flash: erase units, program words, padded
// tail) and checkpoint.c over it, compiled for this machine against a simulated flash that
// enforces STM32 rules (test/firmware/flash_store_test.c). The register-level drivers under it
// cannot run here: QEMU does not model the STM32 flash controller.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FIRMWARE_DIR, REPO, writeIfChanged } from "../../host/board/build.ts";
import { cHeader } from "../../host/board/protocol-spec.ts";

test("flash store: unit lookup, word packing, erase-before-write uploads and checkpoints on simulated flash", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tinyloop-flash-"));
  try {
    writeIfChanged(join(FIRMWARE_DIR, "core", "protocol_gen.h"), cHeader());
    const store = join(FIRMWARE_DIR, "hal", "store-flash"), core = join(FIRMWARE_DIR, "core");
    const exe = join(dir, "flash_store_test");
    const cc = spawnSync("gcc", [
      "-std=c11", "-Wall", "-Werror", "-no-pie", "-I", core,
      join(REPO, "test", "firmware", "flash_store_test.c"), join(store, "flash_layout.c"), join(store, "store_flash.c"),
      join(core, "checkpoint.c"), join(core, "crc32.c"),
      // The "firmware image" ends 100 bytes into the simulated flash, so the store starts at its next unit.
      "-Wl,--defsym=__model_store_start=g_sim+100", "-o", exe,
    ], { encoding: "utf8" });
    if (cc.error) return t.skip("gcc not installed");
    assert.equal(cc.status, 0, cc.stderr);
    const r = spawnSync(exe, { encoding: "utf8" });
    assert.equal(r.status, 0, r.stdout);
    assert.match(r.stdout, /^0 failed$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
