// `tinyloop build --board B` and `tinyloop flash --board B [--port P]`.
import { buildFirmware } from "../board/build.ts";
import { loadBoard } from "../board/boards.ts";
import { withBoard } from "../runners/board-runner.ts";
import type { OpenOptions } from "../board/session.ts";

const kb = (n: number) => `${n.toLocaleString("en-US")} B (${(n / 1024).toFixed(1)} KiB)`;

export function buildCommand(board: string, force: boolean, open: OpenOptions = {}): void {
  const r = buildFirmware(board, { ...open.build, force, log: (l) => process.stderr.write(`${l}\n`) });
  console.log(`${r.board.name}: ${r.elf}${r.cached ? " (up to date)" : ""}`);
  console.log(`  flash, without a model   ${kb(r.flashBytes)}`);
  console.log(`  static RAM (.data+.bss)  ${kb(r.staticRamBytes)}`);
  console.log(`  stack reserved           ${kb(r.stackBytes)}`);
  console.log(`  engine linear memory     ${kb(r.wasmMemoryBytes)} available`);
  console.log(`  model store              ${kb(r.modelStoreBytes)}`);
}

/**
 * Virtual boards are "flashed" by starting them on the freshly built firmware and
 * checking that they answer; real boards are programmed with the tool their definition names.
 */
export async function flashCommand(board: string, port?: string, open: OpenOptions = {}): Promise<void> {
  const b = loadBoard(board);
  if (b.kind === "real") {
    buildFirmware(board, open.build); // refuses, with the reason, until real-board HALs exist
    return;
  }
  await withBoard(board, { ...open, port }, async (s) => {
    const info = await s.info();
    console.log(`${info.board}: firmware running and answering (protocol v${info.protocolVersion}, engine ABI ${info.engineAbi}, model store ${kb(info.modelStoreBytes)})`);
  });
}
