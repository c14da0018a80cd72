// Which firmware directories and defines a board's HAL is made of: the board JSON's "hal" picks
// the chip support, its modelStore.writer the store, its uart the pins. Shared by the wasm2c
// (build.ts) and WAMR (build-wamr.ts) builds so both compile the same HAL.
import type { Board } from "./boards.ts";

/** Directories (under firmware/) per board "hal" value, without the model store. */
const HAL_DIRS: Record<string, string[]> = {
  mps2: ["hal/mps2", "hal/cortexm", "hal/cortexm-systick"],
  "stm32f4-qemu": ["hal/stm32f4-qemu", "hal/stm32-usart-v1", "hal/cortexm", "hal/cortexm-systick"],
  posix: ["hal/posix"],
  // Real parts: shared STM32 code (hal_init, GPIO, DWT timer), the family's clock tree and flash
  // controller, and the UART register layout the family has.
  stm32f4: ["hal/stm32", "hal/stm32f4", "hal/stm32-rcc-f4f7", "hal/stm32-flash-f4f7", "hal/stm32-usart-v1", "hal/cortexm"],
  stm32f7: ["hal/stm32", "hal/stm32f7", "hal/stm32-rcc-f4f7", "hal/stm32-flash-f4f7", "hal/stm32-usart-v2", "hal/cortexm"],
  stm32h7: ["hal/stm32", "hal/stm32h7", "hal/stm32-usart-v2", "hal/cortexm"],
  stm32l4: ["hal/stm32", "hal/stm32l4", "hal/stm32-usart-v2", "hal/cortexm"],
};

/** The store writer's directory; the posix HAL keeps its RAM store itself. */
const STORE_DIRS: Record<string, string[]> = { ram: ["hal/store-ram"], "stm32-flash": ["hal/store-flash"] };

export class HalError extends Error {}

export const BUILDABLE_HALS = Object.keys(HAL_DIRS);

export function halDirs(board: Board): string[] {
  const dirs = HAL_DIRS[board.hal];
  if (!dirs) {
    throw new HalError(`board "${board.name}": its HAL "${board.hal}" is not written (buildable HALs: ${BUILDABLE_HALS.join(", ")})`);
  }
  return board.hal === "posix" ? dirs : [...dirs, ...STORE_DIRS[board.modelStore.writer]];
}

/** "PD8/PD9 AF7": TX pin, RX pin (same port) and the alternate function number. */
export function parseVcpPins(pins: string, board: string): { port: number; tx: number; rx: number; af: number } {
  const m = /^P([A-K])(\d{1,2})\/P([A-K])(\d{1,2}) AF(\d{1,2})$/.exec(pins.trim());
  if (!m || m[1] !== m[3] || Number(m[2]) > 15 || Number(m[4]) > 15 || Number(m[5]) > 15) {
    throw new HalError(`board "${board}": uart.pins must look like "PD8/PD9 AF7" (TX/RX on one port, AF 0-15), got ${JSON.stringify(pins)}`);
  }
  return { port: m[1].charCodeAt(0) - 65, tx: Number(m[2]), rx: Number(m[4]), af: Number(m[5]) };
}

/** Defines the real-part HALs need beyond the core's: VCP pins, LPUART, flash geometry. */
export function halDefines(board: Board): string[] {
  const out: string[] = [];
  if (board.kind === "real") {
    if (!board.uart.pins) throw new HalError(`board "${board.name}": uart.pins is missing (e.g. "PD8/PD9 AF7")`);
    const p = parseVcpPins(board.uart.pins, board.name);
    out.push(`-DTL_VCP_PORT=${p.port}u`, `-DTL_VCP_TX_PIN=${p.tx}u`, `-DTL_VCP_RX_PIN=${p.rx}u`, `-DTL_VCP_AF=${p.af}u`);
  }
  if (board.uart.kind === "stm32-lpuart") out.push("-DTL_UART_LPUART=1");
  const s = board.modelStore;
  if (s.writer === "stm32-flash") {
    out.push(
      `-DTL_FLASH_ORIGIN=0x${board.memory.flash.origin.toString(16)}u`,
      `-DTL_FLASH_RUNS=${s.units!.map((u) => `{${u.count}u,${u.bytes}u}`).join(",")}`,
      `-DTL_FLASH_WORD=${s.wordBytes}u`,
    );
  }
  return out;
}
