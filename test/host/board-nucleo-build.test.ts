// The four Nucleo boards build with the real toolchain, and the images are sane for their parts:
// they fit flash and SRAM, the vector table starts the part correctly, the model store starts
// on an erase-unit boundary past the image, and the HAL pieces each part needs are linked in.
// No hardware here: nothing in this file runs the firmware.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { buildFirmware } from "../../host/board/build.ts";
import { loadBoard } from "../../host/board/boards.ts";

const NUCLEOS = ["nucleo-f412zg", "nucleo-f746zg", "nucleo-h743zi2", "nucleo-l4r5zi"];

function symbols(elf: string): Map<string, number> {
  const out = spawnSync("arm-none-eabi-nm", [elf], { encoding: "utf8" }).stdout;
  return new Map(out.split("\n").map((l) => l.trim().split(/\s+/)).filter((p) => p.length === 3).map((p) => [p[2], parseInt(p[0], 16)]));
}

/** The erase-unit boundaries of a board's flash, from its definition. */
function boundaries(name: string): number[] {
  const b = loadBoard(name);
  const out = [b.memory.flash.origin];
  for (const u of b.modelStore.units!) for (let i = 0; i < u.count; i++) out.push(out[out.length - 1] + u.bytes);
  return out;
}

for (const name of NUCLEOS) {
  test(`${name}: builds, fits its part, and starts sanely`, { timeout: 600_000 }, () => {
    const r = buildFirmware(name);
    const { flash, sram } = r.board.memory;
    const sym = symbols(r.elf);
    // Flash: image, then the store from the first erase-unit boundary after it, to the end.
    const storeStart = sym.get("__model_store_start")!;
    assert.ok(boundaries(name).includes(storeStart), `store start 0x${storeStart.toString(16)} is an erase-unit boundary`);
    assert.ok(storeStart >= flash.origin + r.flashBytes, "the store begins after the firmware image");
    assert.equal(storeStart - flash.origin + r.modelStoreBytes, flash.length);
    assert.ok(r.modelStoreBytes >= flash.length / 2, `model store ${r.modelStoreBytes} B`);
    // SRAM: stack, statics and linear memory inside the part's SRAM.
    assert.ok(r.stackBytes + r.staticRamBytes + r.wasmMemoryBytes <= sram.length);
    assert.ok(sym.get("__wasm_mem_end")! <= sram.origin + sram.length);
    // Vector table at the flash origin: initial SP = top of the stack, in SRAM, 8-aligned;
    // reset handler a Thumb address inside the image. The .bin begins with the same words.
    const bin = readFileSync(r.bin!);
    assert.equal(bin.length, r.flashBytes);
    const sp = bin.readUInt32LE(0), reset = bin.readUInt32LE(4);
    assert.equal(sp, sym.get("__stack_top"));
    assert.ok(sp > sram.origin && sp <= sram.origin + sram.length && sp % 8 === 0, `SP 0x${sp.toString(16)}`);
    assert.equal(reset & 1, 1, "Thumb bit");
    assert.equal(reset & ~1, sym.get("Reset_Handler"));
    assert.ok(reset > flash.origin && reset < flash.origin + r.flashBytes);
    for (let v = 2; v < 7; v++) assert.notEqual(bin.readUInt32LE(4 * v), 0, `fault vector ${v}`);
    // The real-part HAL, not a virtual board's: clock tree, pins, UART, DWT timer, flash store.
    for (const s of ["stm32_clock_init", "gpio_alternate", "uart_init", "dwt_start", "SysTick_Handler", "hal_store_erase", "flash_erase_unit", "flash_program_word"]) {
      assert.ok(sym.has(s), `${s} linked`);
    }
    assert.ok(!sym.has("systick_start"), "no SysTick-only timer (virtual boards')");
    assert.equal(sym.has("cortexm7_caches_on"), r.board.core === "cortex-m7", "L1 caches on the M7 parts");
  });
}
