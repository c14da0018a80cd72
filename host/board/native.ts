// Runs the native firmware (a Linux process whose UART is a pty it announces on stdout).
import type { BoardProcess } from "./qemu.ts";
import { spawnTracked } from "./proc.ts";

export async function startNative(elf: string, startTimeoutMs = 10_000): Promise<BoardProcess> {
  const proc = spawnTracked(elf, [], "native firmware");
  try {
    const m = await proc.waitFor(/tinyloop-native: uart (\/dev\/\S+)/, startTimeoutMs, "uart announcement");
    // It serves as soon as it has printed the path, and sends nothing unsolicited: no start step.
    return { ptyPath: m[1], start: async () => {}, stop: () => proc.stop(), output: () => proc.output(), exited: () => proc.exited() };
  } catch (e) {
    await proc.stop();
    throw e;
  }
}
