// The attack × policy matrix, run in the page by the engine.
import { engine } from "./engine.js";
import { registerOffline } from "./site.js";

registerOffline();

const COMPROMISED = new Set(["PASSWORD", "READ", "INJECTED", "FORGED", "TAMPERED", "SPOOFED"]);
const status = document.getElementById("matrix-status");
const wasm = await engine();
const started = performance.now();
const m = wasm.matrix();
const ms = Math.round(performance.now() - started);

const table = document.createElement("table");
const caption = table.createCaption();
caption.className = "sr-only";
caption.textContent = "Outcome of each attack (rows) against each client policy (columns)";
const head = table.createTHead().insertRow();
const corner = document.createElement("th");
corner.scope = "col";
corner.textContent = "Attack / setting";
head.append(corner);
for (const c of m.columns) {
  const th = document.createElement("th");
  th.scope = "col";
  th.textContent = c.title;
  head.append(th);
}
const body = table.createTBody();
let sessions = 0;
for (const row of m.rows) {
  const tr = body.insertRow();
  const th = document.createElement("th");
  th.scope = "row";
  th.textContent = row.id;
  tr.append(th);
  for (const col of m.columns) {
    const td = tr.insertCell();
    const cell = row.cells.find((c) => c.column === col.id);
    if (!cell) {
      td.textContent = "–";
      td.title = "does not apply";
      continue;
    }
    sessions += 1;
    const a = document.createElement("a");
    a.href = `index.html#cell=${encodeURIComponent(`${row.id}@${col.id}`)}&step=0`;
    a.textContent = cell.label;
    a.className = COMPROMISED.has(cell.label) ? "bad" : cell.label === "secure" ? "good" : "aborted";
    a.setAttribute("aria-label", `${row.id} against ${col.title}: ${cell.label}`);
    td.append(a);
  }
}
document.getElementById("matrix").append(table);
status.textContent = `${sessions} sessions, each with real TLS, run in this page in ${ms} ms.`;
