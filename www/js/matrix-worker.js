// Runs a share of the matrix's sessions off the page's thread, one cell at a
// time, posting each result as it is ready: the page stays responsive and
// fills in. The page starts one worker per core and tells each its share.
import { engine } from "./engine.js";

addEventListener("message", async ({ data: { shard, of, module } }) => {
  const wasm = await engine(module);
  const layout = wasm.matrixLayout();
  if (shard === 0) postMessage({ layout });
  const ids = layout.rows.flatMap((r) => r.cells.filter((c) => c.label === "…").map((c) => `${r.id}@${c.column}`));
  // Wall-clock times, comparable across workers.
  const started = performance.timeOrigin + performance.now();
  let sessions = 0;
  for (let i = shard; i < ids.length; i += of) {
    postMessage({ id: ids[i], cell: wasm.matrixCell(ids[i]) });
    sessions += 1;
  }
  postMessage({ done: true, sessions, started, ended: performance.timeOrigin + performance.now() });
});
