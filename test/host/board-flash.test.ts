// `tinyloop flash` on the Nucleo boards without hardware: stand-in st-flash and openocd
// executables on PATH record the exact argv they are given (and can fail like the real tools),
// and a temporary directory stands in for the ST-LINK's NOD_* drive. What the real tools then do
// to a real board is not tested here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { loadBoard } from "../../host/board/boards.ts";
import { findNucleoDrive, flashArgv, which } from "../../host/board/flash.ts";
import { REPO } from "../../host/board/build.ts";

const tmp = mkdtempSync(join(tmpdir(), "tl-flash-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));

/** A stand-in tool: writes its argv (one per line) to <dir>/<name>.argv, prints `say`, exits `code`. */
function standIn(dir: string, name: string, code = 0, say = ""): void {
  mkdirSync(dir, { recursive: true });
  const f = join(dir, name);
  writeFileSync(f, `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done > "${join(dir, name)}.argv"\necho "${say}"\nexit ${code}\n`);
  chmodSync(f, 0o755);
}

function tinyloop(path: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [join(REPO, "bin/tinyloop.mjs"), ...args], {
    encoding: "utf8", timeout: 300_000, env: { ...process.env, PATH: path },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const argvOf = (dir: string, name: string) => readFileSync(join(dir, `${name}.argv`), "utf8").trimEnd().split("\n");
const fw = (board: string) => join(REPO, "build", "firmware", `${board}-mask`);

test("each Nucleo definition gives st-flash the .bin at the flash origin and OpenOCD the ELF with its board config", () => {
  const cfg: Record<string, string> = {
    "nucleo-f412zg": "board/st_nucleo_f4.cfg", "nucleo-f746zg": "board/st_nucleo_f7.cfg",
    "nucleo-h743zi2": "board/st_nucleo_h743zi.cfg", "nucleo-l4r5zi": "board/st_nucleo_l4.cfg",
  };
  for (const [name, c] of Object.entries(cfg)) {
    const b = loadBoard(name), files = { elf: "/x/firmware.elf", bin: "/x/firmware.bin" };
    assert.deepEqual(flashArgv(b, "st-flash", files), ["st-flash", "--reset", "write", "/x/firmware.bin", "0x08000000"]);
    assert.deepEqual(flashArgv(b, "openocd", files), ["openocd", "-f", c, "-c", "program /x/firmware.elf verify reset exit"]);
  }
  assert.throws(() => flashArgv(loadBoard("qemu-m4"), "st-flash", { elf: "e", bin: "b" }), /not a real board/);
});

test("flash --tool st-flash runs the definition's command on the built firmware.bin and names the port", () => {
  const bin = join(tmp, "st");
  standIn(bin, "st-flash");
  const r = tinyloop(`${bin}${delimiter}${process.env.PATH}`, "flash", "--board", "nucleo-f746zg", "--tool", "st-flash");
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(argvOf(bin, "st-flash"), ["--reset", "write", join(fw("nucleo-f746zg"), "firmware.bin"), "0x08000000"]);
  assert.ok(existsSync(join(fw("nucleo-f746zg"), "firmware.bin")));
  assert.match(r.out, /programmed with st-flash/);
  assert.match(r.out, /serial port.*pass it as --port/);
});

test("flash picks st-flash, else openocd, from PATH", () => {
  const bin = join(tmp, "ocd");
  standIn(bin, "openocd");
  const path = `${bin}${delimiter}${process.env.PATH}`;
  if (which("st-flash", path)) return; // a real st-flash here would be picked first
  const r = tinyloop(path, "flash", "--board", "nucleo-h743zi2");
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(argvOf(bin, "openocd"), ["-f", "board/st_nucleo_h743zi.cfg", "-c", `program ${join(fw("nucleo-h743zi2"), "firmware.elf")} verify reset exit`]);
});

test("a failing tool is an error with its output and a non-zero exit", () => {
  const bin = join(tmp, "fail");
  standIn(bin, "st-flash", 2, "Couldn't find any ST-Link devices");
  const r = tinyloop(`${bin}${delimiter}${process.env.PATH}`, "flash", "--board", "nucleo-l4r5zi", "--tool", "st-flash");
  assert.equal(r.code, 1);
  assert.match(r.err, /nucleo-l4r5zi: st-flash exited with 2; is the board plugged in/);
  assert.match(r.err, /Couldn't find any ST-Link devices/);
});

test("a missing tool names the package to install", () => {
  if (which("st-flash") || which("openocd")) return; // installed here: nothing is missing
  let r = tinyloop(process.env.PATH!, "flash", "--board", "nucleo-f412zg", "--tool", "st-flash");
  assert.equal(r.code, 1);
  assert.match(r.err, /`st-flash` not found; install it \(apt-get install stlink-tools\)/);
  r = tinyloop(process.env.PATH!, "flash", "--board", "nucleo-f412zg", "--tool", "openocd");
  assert.equal(r.code, 1);
  assert.match(r.err, /`openocd` not found; install it \(apt-get install openocd\)/);
  r = tinyloop(process.env.PATH!, "flash", "--board", "nucleo-f412zg", "--tool", "jlink");
  assert.equal(r.code, 2);
  assert.match(r.err, /--tool must be one of st-flash, openocd, copy/);
});

test("flash --tool copy puts firmware.bin on the NOD_* drive", () => {
  const drive = join(tmp, "media", "NOD_F746ZG");
  mkdirSync(drive, { recursive: true });
  const r = tinyloop(process.env.PATH!, "flash", "--board", "nucleo-f746zg", "--tool", "copy", "--drive", drive);
  assert.equal(r.code, 0, r.err);
  assert.ok(readFileSync(join(drive, "firmware.bin")).equals(readFileSync(join(fw("nucleo-f746zg"), "firmware.bin"))));
  const missing = tinyloop(process.env.PATH!, "flash", "--board", "nucleo-f746zg", "--tool", "copy", "--drive", join(tmp, "nope"));
  assert.equal(missing.code, 1);
  assert.match(missing.err, /is not a mounted directory; plug the board in/);
});

test("the NOD_* drive naming this board's part is preferred", () => {
  const root = join(tmp, "roots");
  for (const d of ["NOD_F412ZG", "NODE_F746ZG", "other"]) mkdirSync(join(root, d), { recursive: true });
  assert.equal(findNucleoDrive(loadBoard("nucleo-f746zg"), [root]), join(root, "NODE_F746ZG"));
  assert.equal(findNucleoDrive(loadBoard("nucleo-f412zg"), [root]), join(root, "NOD_F412ZG"));
  assert.equal(findNucleoDrive(loadBoard("nucleo-f412zg"), [join(tmp, "none")]), undefined);
});

test("board commands on a real board need --port, and a port that is not there is a clear error", () => {
  let r = tinyloop(process.env.PATH!, "hil", "--board", "nucleo-l4r5zi");
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, /nucleo-l4r5zi" is a real board: pass its serial port with --port/);
  r = tinyloop(process.env.PATH!, "hil", "--board", "nucleo-l4r5zi", "--port", join(tmp, "ttyACM9"));
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, /cannot open serial port .*ttyACM9.*the device does not exist/);
  assert.doesNotMatch(r.err, /internal error/);
});
