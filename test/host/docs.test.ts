// docs/model-format.md stays true to host/format/spec.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RECORDS, OPCODES, HEADER_FIELDS } from "../../host/format/spec.ts";
import { REPO } from "./shared.ts";

test("the model format doc names every header field, opcode, record and field", () => {
  const doc = readFileSync(join(REPO, "docs/model-format.md"), "utf8");
  for (const f of HEADER_FIELDS) assert.ok(doc.includes(`\`${f}\``), `header field ${f}`);
  for (const [op, code] of Object.entries(OPCODES)) assert.ok(doc.includes(`| ${op} | ${code} |`), `opcode ${op}`);
  for (const [name, fields] of Object.entries(RECORDS)) {
    const line = doc.split("\n").find((l) => l.startsWith(`- \`${name}\`:`));
    assert.ok(line, `record ${name}`);
    assert.equal(line, `- \`${name}\`: ${fields.map((f) => `\`${f}\``).join(", ")}`, `fields of ${name}`);
  }
});
