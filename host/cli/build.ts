// `tinyloop build --board B` and `tinyloop flash --board B [--port P]`.
import { buildFirmware, BuildError } from "../board/build.ts";
import { loadBoard } from "../board/boards.ts";
import { flashBoard, FlashError, stlinkPorts, type FlashOptions } from "../board/flash.ts";
import { withBoard } from "../runners/board-runner.ts";
import type { OpenOptions } from "../board/session.ts";

const kb = (n: number) => `${n.toLocaleString("en-US")} B (${(n / 1024).toFixed(1)} KiB)`;

export function buildCommand(board: string, force: boolean, open: OpenOptions = {}): void {
  const r = buildFirmware(board, { ...open.build, force, log: (l) => process.stderr.write(`${l}\n`) });
  console.log(`${r.board.name}: ${r.elf}${r.cached ? " (up to date)" : ""}`);
  if (r.bin) console.log(`  raw image                ${r.bin}`);
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
export async function flashCommand(board: string, port?: string, open: OpenOptions = {}, flash: FlashOptions = {}): Promise<void> {
  const b = loadBoard(board);
  if (b.kind === "real") {
    const r = buildFirmware(board, { ...open.build, log: (l) => process.stderr.write(`${l}\n`) });
    try {
      console.log(flashBoard(b, { elf: r.elf, bin: r.bin! }, { ...flash, log: (l) => process.stderr.write(`${l}\n`) }));
    } catch (e) {
      if (e instanceof FlashError) throw new BuildError(e.message); // a clear error line and exit 1
      throw e;
    }
    if (!port) {
      const ports = stlinkPorts();
      console.log(ports.length
        ? `serial port (ST-LINK virtual COM port): ${ports.join(", ")}; pass it as --port to run, bench, hil, train`
        : "serial port: the ST-LINK virtual COM port, usually /dev/ttyACM0 (`ls /dev/serial/by-id/`); pass it as --port to run, bench, hil, train");
      return;
    }
    // With --port: check the new firmware answers, as for a virtual board.
  }
  await withBoard(board, { ...open, port }, async (s) => {
    const info = await s.info();
    console.log(`${info.board}: firmware running and answering (protocol v${info.protocolVersion}, engine ABI ${info.engineAbi}, model store ${kb(info.modelStoreBytes)})`);
  });
}
