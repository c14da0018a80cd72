// Board definitions load and validate; the linker script follows the board's memory.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadAllBoards, loadBoard, boardNames, validateBoard, BoardError, BOARDS_DIR, DEFAULT_BOARD } from "../../host/board/boards.ts";
import { linkerScript } from "../../host/board/linker.ts";
import { halDefines, halDirs, parseVcpPins } from "../../host/board/hal-sources.ts";
import { qemuArgs } from "../../host/board/qemu.ts";

const EXPECTED = ["native", "nucleo-f412zg", "nucleo-f746zg", "nucleo-h743zi2", "nucleo-l4r5zi", "qemu-f405", "qemu-m4", "qemu-m7"];

test("every board definition loads and validates", () => {
  assert.deepEqual(boardNames(), EXPECTED);
  const boards = loadAllBoards();
  assert.equal(boards.length, EXPECTED.length);
  for (const b of boards) {
    assert.ok(b.clockHz > 0 && b.timing.timerHz > 0, b.name);
    if (b.kind === "real") {
      assert.equal(b.tested, false, `${b.name}: real boards cannot be tested here`);
      assert.equal(b.timing.kind, "dwt");
      assert.equal(b.memory.flash.origin, 0x08000000);
    }
    if (b.kind === "qemu") assert.equal(b.timing.kind, "systick-icount");
  }
  assert.equal(loadBoard().name, DEFAULT_BOARD);
  assert.equal(DEFAULT_BOARD, "qemu-m4");
});

test("the qemu-m4 board is limited to 320 KB SRAM and 1 MB flash", () => {
  const b = loadBoard("qemu-m4");
  assert.deepEqual(b.memory.sram, { origin: 0x20000000, length: 320 * 1024 });
  assert.deepEqual(b.memory.flash, { origin: 0, length: 1024 * 1024 });
  const ld = linkerScript(b);
  assert.match(ld, /RAM \(rwx\)\s+: ORIGIN = 0x20000000, LENGTH = 0x00050000/);
  assert.match(ld, /FLASH \(rx\) : ORIGIN = 0x00000000, LENGTH = 0x00100000/);
  assert.match(ld, /__model_store_start/);
  assert.match(ld, /\. \+= 16384/);
  const args = qemuArgs(b, "fw.elf", "/tmp/q.sock");
  assert.deepEqual(args.slice(0, 2), ["-M", "mps2-an386"]);
  assert.ok(args.includes("-S") && args.join(" ").includes("-icount shift=0") && args.join(" ").includes("-serial pty"));
});

test("a store in SRAM is carved off the top of SRAM", () => {
  const ld = linkerScript(loadBoard("qemu-f405"));
  assert.match(ld, /__wasm_mem_end = ORIGIN\(RAM\) \+ LENGTH\(RAM\) - 65536/);
  assert.match(ld, /__model_store_start = __wasm_mem_end/);
});

test("a wrong board name lists the known boards", () => {
  assert.throws(() => loadBoard("qemu-m5"), (e: Error) =>
    e instanceof BoardError && /unknown board "qemu-m5"/.test(e.message) && e.message.includes(EXPECTED.join(", ")));
});

test("bad definitions are rejected with the board and field named", () => {
  const good = JSON.parse(JSON.stringify(loadBoard("qemu-m4")));
  assert.throws(() => validateBoard({ ...good, name: "x" }, "qemu-m4"), /"name" field says "x"/);
  assert.throws(() => validateBoard({ ...good, memory: { ...good.memory, sram: { origin: "0x20000000", length: "big" } } }, "qemu-m4"),
    /memory\.sram\.length/);
  assert.throws(() => validateBoard({ ...good, run: { kind: "flash" } }, "qemu-m4"), /does not fit a qemu board/);
  assert.throws(() => validateBoard({ ...good, modelStore: { region: "sram", writer: "ram" } }, "qemu-m4"), /needs modelStore\.bytes/);
});

test("a flash model store's erase units must tile the flash, with a real program word", () => {
  const good = JSON.parse(readFileSync(join(BOARDS_DIR, "nucleo-f412zg.json"), "utf8"));
  assert.deepEqual(validateBoard(good, "nucleo-f412zg").modelStore.units?.[2], { count: 7, bytes: 131072 });
  const store = (s: object) => ({ ...good, modelStore: { ...good.modelStore, ...s } });
  assert.throws(() => validateBoard(store({ units: [[4, 16384]] }), "nucleo-f412zg"), /units cover 65536 bytes but memory\.flash\.length is 1048576/);
  assert.throws(() => validateBoard(store({ units: undefined }), "nucleo-f412zg"), /needs modelStore\.units/);
  assert.throws(() => validateBoard(store({ wordBytes: 3 }), "nucleo-f412zg"), /wordBytes must be 4, 8, 16 or 32/);
  assert.throws(() => validateBoard(store({ writer: "eeprom" }), "nucleo-f412zg"), /writer must be "ram" or "stm32-flash"/);
});

test("the HAL a board builds with: directories and defines from its JSON", () => {
  const l4 = loadBoard("nucleo-l4r5zi");
  assert.deepEqual(halDirs(l4), ["hal/stm32", "hal/stm32l4", "hal/stm32-usart-v2", "hal/cortexm", "hal/store-flash"]);
  const d = halDefines(l4);
  for (const f of ["-DTL_VCP_PORT=6u", "-DTL_VCP_TX_PIN=7u", "-DTL_VCP_RX_PIN=8u", "-DTL_VCP_AF=8u", "-DTL_UART_LPUART=1", "-DTL_FLASH_RUNS={512u,4096u}", "-DTL_FLASH_WORD=8u", "-DTL_FLASH_ORIGIN=0x8000000u"]) {
    assert.ok(d.includes(f), `${f} in ${d.join(" ")}`);
  }
  assert.deepEqual(halDirs(loadBoard("qemu-m4")), ["hal/mps2", "hal/cortexm", "hal/cortexm-systick", "hal/store-ram"]);
  assert.deepEqual(halDefines(loadBoard("qemu-m4")), []);
  assert.deepEqual(parseVcpPins("PD8/PD9 AF7", "b"), { port: 3, tx: 8, rx: 9, af: 7 });
  for (const bad of ["PD8/PE9 AF7", "PD8 AF7", "PD16/PD9 AF7", "PD8/PD9 AF16"]) assert.throws(() => parseVcpPins(bad, "b"), /uart\.pins must look like "PD8\/PD9 AF7"/);
  assert.throws(() => halDirs({ ...l4, hal: "stm32g4" }), /HAL "stm32g4" is not written \(buildable HALs: .*stm32l4/);
});
