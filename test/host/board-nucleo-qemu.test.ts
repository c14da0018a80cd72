// The nucleo-f412zg firmware, unchanged, on QEMU's STM32F405 (netduinoplus2): the closest thing
// to the part QEMU has. Its USART3 at the same address and with the same F4 register layout is
// modelled, but RCC, PWR, GPIO, the flash controller and the DWT are not (reads give 0, writes
// are dropped). So this checks the paths a broken board would take, not the happy path: every
// clock wait times out and the firmware falls back to the 16 MHz HSI, says so in HELLO and still
// serves; a model upload programs nothing (the flash controller is absent, QEMU's flash is ROM)
// and LOAD_END's re-read of the store catches it. The real clock tree and flash programming
// are only checked on hardware, which has not happened yet.
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildFirmware } from "../../host/board/build.ts";
import { spawnTracked } from "../../host/board/proc.ts";
import { openBoard } from "../../host/board/session.ts";
import { BoardError } from "../../host/board/link.ts";
import { CLOCK_SOURCES } from "../../host/board/protocol-spec.ts";
import { loadModel } from "../../host/compile.ts";
import { modelPath, requireShared } from "./shared.ts";

requireShared();

test("nucleo-f412zg firmware on QEMU's STM32F405: no clock tree, no flash controller, yet it answers and refuses a bad store", { timeout: 120_000 }, async () => {
  const fw = buildFirmware("nucleo-f412zg");
  // USART3 is the third serial port of the SoC; the first two go nowhere.
  const qemu = spawnTracked("qemu-system-arm", [
    "-M", "netduinoplus2", "-kernel", fw.elf, "-display", "none", "-nodefaults", "-monitor", "none",
    "-serial", "null", "-serial", "null", "-serial", "pty",
  ], "qemu-system-arm (nucleo-f412zg on netduinoplus2)");
  try {
    const pty = (await qemu.waitFor(/char device redirected to (\/dev\/\S+)/, 10_000, "serial pty"))[1];
    const s = await openBoard("nucleo-f412zg", { port: pty, helloTimeoutMs: 30_000 });
    try {
      const info = await s.info();
      assert.equal(info.board, "nucleo-f412zg");
      assert.equal(info.clockSource, CLOCK_SOURCES.RC_ONLY, "no RCC: the PLL never locks");
      assert.equal(info.clockHz, 16_000_000, "so it runs on the HSI and reports that");
      assert.equal(info.timerHz, info.clockHz);
      assert.equal(info.modelStoreBytes, 1024 * 1024 - 128 * 1024, "store from the 128 KB sector after the firmware");
      const blob = loadModel(modelPath("hello_world_int8")).blob;
      await assert.rejects(s.loadModel(blob), (e: Error) => e instanceof BoardError && e.errorName === "BLOB_CRC");
      assert.equal((await s.info()).board, "nucleo-f412zg", "still serving after the failed upload");
    } finally {
      await s.close();
    }
  } finally {
    await qemu.stop();
  }
});
