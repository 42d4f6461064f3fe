// The attack × policy matrix: the engine runs every session in Web Workers
// (one per core), and the table fills in cell by cell while the page stays usable.
import { ENGINE_WASM } from "./engine.js";
import { registerOffline } from "./site.js";

registerOffline();

const CLASS = { compromised: "bad", secure: "good", neutral: "aborted" };
const status = document.getElementById("matrix-status");
const box = document.getElementById("matrix");
const cells = new Map();
let total = 0;
let filled = 0;

function drawTable(m) {
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
      if (!cell || cell.label !== "…") {
        td.textContent = "–";
        td.title = "does not apply";
        continue;
      }
      td.textContent = "…";
      td.setAttribute("aria-busy", "true");
      cells.set(`${row.id}@${col.id}`, { td, label: `${row.id} against ${col.title}` });
      total += 1;
    }
  }
  box.append(table);
}

function fill(id, cell) {
  const { td, label } = cells.get(id);
  const a = document.createElement("a");
  a.href = `index.html#${cell.link}`;
  a.textContent = cell.label;
  a.className = CLASS[cell.tone];
  a.dataset.tone = cell.tone;
  a.setAttribute("aria-label", `${label}: ${cell.label}`);
  td.replaceChildren(a);
  td.removeAttribute("aria-busy");
  filled += 1;
  if (filled % 10 === 0) status.textContent = `Running the sessions… ${filled} of ${total} done.`;
}

// One worker per core (at most four), each running every n-th cell.
const workers = Math.max(1, Math.min(4, navigator.hardwareConcurrency || 2));
const pending = [];
const shards = [];
const onMessage = ({ data }) => {
  if (data.error) {
    status.textContent = `The engine could not run: ${data.error}`;
  } else if (data.layout) {
    drawTable(data.layout);
    for (const [id, cell] of pending.splice(0)) fill(id, cell);
  } else if (data.id) {
    if (cells.size) fill(data.id, data.cell);
    else pending.push([data.id, data.cell]);
  } else if (data.done) {
    shards.push(data);
    if (shards.length < workers) return;
    const ms = Math.max(...shards.map((d) => d.ended)) - Math.min(...shards.map((d) => d.started));
    const sessions = shards.reduce((n, d) => n + d.sessions, 0);
    box.dataset.ms = String(Math.round(ms));
    status.textContent = `${sessions} sessions, each with real TLS, run in this page in ${Math.round(ms)} ms (in ${workers} background worker${workers > 1 ? "s" : ""}, cell by cell).`;
  }
};
// Compiled once here and shared, so every worker starts at the same moment.
const module = await WebAssembly.compileStreaming(fetch(ENGINE_WASM));
for (let shard = 0; shard < workers; shard += 1) {
  const worker = new Worker(new URL("./matrix-worker.js", import.meta.url), { type: "module" });
  worker.addEventListener("message", onMessage);
  worker.addEventListener("error", (e) => { status.textContent = `The engine could not run: ${e.message}`; });
  worker.postMessage({ shard, of: workers, module });
}
