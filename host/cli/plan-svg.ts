// `inspect --svg FILE`: the memory plan as a picture. Ops run left to right; each
// buffer is a box spanning the ops it is live for, at its arena offset (bottom = 0).
import type { TlmMeta } from "../format/tlm.ts";

const W = 960, H = 480, LEFT = 70, BOTTOM = 40, TOP = 30, RIGHT = 20;

function escape(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]!);
}

export function planSvg(meta: TlmMeta): string {
  const ops = Math.max(meta.ops.length, 1);
  const arena = Math.max(meta.plan.arenaBytes, 1);
  const x = (op: number) => LEFT + (op / ops) * (W - LEFT - RIGHT);
  const y = (offset: number) => H - BOTTOM - (offset / arena) * (H - BOTTOM - TOP);
  const names = new Map(meta.tensors.map((t) => [`t${t.index}`, t.name]));
  const boxes = meta.plan.buffers.map((b) => {
    const scratch = b.id.startsWith("s");
    const label = scratch ? `weight tile of op ${b.id.slice(1)}` : `${b.id} ${names.get(b.id) ?? ""}`;
    return `<rect x="${x(b.first).toFixed(1)}" y="${y(b.offset + b.bytes).toFixed(1)}" width="${(x(b.last + 1) - x(b.first)).toFixed(1)}" ` +
      `height="${(y(b.offset) - y(b.offset + b.bytes)).toFixed(1)}" fill="${scratch ? "#f4a261" : "#2a9d8f"}" fill-opacity="0.75" stroke="#264653" stroke-width="0.5">` +
      `<title>${escape(label)}: ${b.bytes} B at offset ${b.offset}, ops ${b.first}-${b.last}</title></rect>`;
  });
  const ticks = Array.from({ length: ops }, (_, i) => i).filter((i) => ops <= 40 || i % Math.ceil(ops / 40) === 0)
    .map((i) => `<text x="${((x(i) + x(i + 1)) / 2).toFixed(1)}" y="${H - BOTTOM + 14}" font-size="9" text-anchor="middle">${i}</text>`);
  const peakY = y(arena).toFixed(1);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${LEFT}" y="18" font-size="13">${escape(meta.source.file)}: arena ${arena.toLocaleString("en-US")} B, peak at op ${meta.plan.peakOp} — tensors (green), weight tiles (orange)</text>`,
    ...boxes,
    `<line x1="${LEFT}" y1="${peakY}" x2="${W - RIGHT}" y2="${peakY}" stroke="#e76f51" stroke-dasharray="4 3"/>`,
    `<line x1="${LEFT}" y1="${H - BOTTOM}" x2="${W - RIGHT}" y2="${H - BOTTOM}" stroke="black"/>`,
    `<line x1="${LEFT}" y1="${TOP}" x2="${LEFT}" y2="${H - BOTTOM}" stroke="black"/>`,
    ...ticks,
    `<text x="${(LEFT + W - RIGHT) / 2}" y="${H - 8}" font-size="11" text-anchor="middle">op</text>`,
    `<text x="${LEFT - 6}" y="${peakY}" font-size="10" text-anchor="end">${arena.toLocaleString("en-US")} B</text>`,
    `<text x="${LEFT - 6}" y="${H - BOTTOM}" font-size="10" text-anchor="end">0</text>`,
    `</svg>`,
  ].join("\n");
}
