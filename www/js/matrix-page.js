// The attack × policy matrix, run in the page by the engine.
import { engine } from "./engine.js";
import { registerOffline } from "./site.js";

registerOffline();

const CLASS = { compromised: "bad", secure: "good", neutral: "aborted" };
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
  th.title = row.title;
  tr.append(th);
  for (const col of m.columns) {
    const td = tr.insertCell();
    const cell = row.cells.find((c) => c.column === col.id);
    if (!cell || !cell.tone) {
      td.textContent = "–";
      td.title = "does not apply";
      continue;
    }
    sessions += 1;
    const a = document.createElement("a");
    a.href = `index.html#${cell.link}`;
    a.textContent = cell.label;
    a.className = CLASS[cell.tone];
    a.dataset.tone = cell.tone;
    a.setAttribute("aria-label", `${row.id} against ${col.title}: ${cell.label}`);
    td.append(a);
  }
}
document.getElementById("matrix").append(table);
status.textContent = `${sessions} sessions, each with real TLS, run in this page in ${ms} ms.`;
