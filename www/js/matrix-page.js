// The attack × policy matrix: the engine runs every session in Web Workers
// (one per core), and the table fills in cell by cell while the page stays usable.
import { ENGINE_WASM, EngineUnavailable } from "./engine.js";
import { registerOffline } from "./site.js";

registerOffline();

const CLASS = { compromised: "bad", secure: "good", neutral: "aborted" };
const status = document.getElementById("matrix-status");
const box = document.getElementById("matrix");
const cells = new Map();
let total = 0;
let filled = 0;

/** One table: the head (the columns), then a row per attack, each cell waiting for its session. */
function table(m, rows, caption) {
  const t = document.createElement("table");
  const c = t.createCaption();
  c.className = "sr-only";
  c.textContent = caption;
  const head = t.createTHead().insertRow();
  const corner = document.createElement("th");
  corner.scope = "col";
  corner.textContent = "Attack ↓ · client →";
  head.append(corner);
  for (const col of m.columns) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = col.title;
    head.append(th);
  }
  const body = t.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    const th = document.createElement("th");
    th.scope = "row";
    // The row's name in words, its id (the link's and the CLI's) beneath.
    th.append(row.title, document.createElement("br"));
    const id = document.createElement("code");
    id.textContent = row.id;
    th.append(id);
    tr.append(th);
    for (const col of m.columns) {
      const td = tr.insertCell();
      const cell = row.cells.find((x) => x.column === col.id);
      if (!cell || cell.label !== "…") {
        td.textContent = "–";
        td.className = "na";
        continue;
      }
      td.textContent = "…";
      td.setAttribute("aria-busy", "true");
      cells.set(`${row.id}@${col.id}`, { td, label: `${row.title} against ${col.title}` });
      total += 1;
    }
  }
  const wrap = document.createElement("div");
  wrap.className = "table-wrap";
  wrap.append(t);
  return wrap;
}

/** The legend, the attacks on the wire, and the smuggling rows folded (all from the engine's layout). */
function drawTable(m) {
  const legend = document.createElement("dl");
  legend.className = "matrix-legend";
  for (const e of m.legend) {
    const dt = document.createElement("dt");
    const mark = document.createElement("span");
    mark.className = `swatch ${e.tone ? CLASS[e.tone] : "na"}`;
    mark.textContent = e.labels;
    dt.append(mark);
    const dd = document.createElement("dd");
    dd.textContent = e.text;
    legend.append(dt, dd);
  }
  const wire = m.rows.filter((r) => r.group === "wire");
  const smuggling = m.rows.filter((r) => r.group === "smuggling");
  const folded = document.createElement("details");
  folded.className = "smuggling";
  const summary = document.createElement("summary");
  summary.textContent = `SMTP smuggling: ${smuggling.length} rows, two hops with no one on the wire (only the "MTA opportunistic" column applies)`;
  folded.append(summary, table(m, smuggling, "Outcome of each smuggling variant"));
  box.append(legend, table(m, wire, "Outcome of each attack (rows) against each client policy (columns)"), folded);
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
let module = null;
try {
  module = await WebAssembly.compileStreaming(fetch(ENGINE_WASM));
} catch (e) {
  status.textContent = `${new EngineUnavailable(e).message} The matrix runs every session in this page, so it needs the engine.`;
}
for (let shard = 0; module && shard < workers; shard += 1) {
  const worker = new Worker(new URL("./matrix-worker.js", import.meta.url), { type: "module" });
  worker.addEventListener("message", onMessage);
  worker.addEventListener("error", (e) => { status.textContent = `The engine could not run: ${e.message}`; });
  worker.postMessage({ shard, of: workers, module });
}
