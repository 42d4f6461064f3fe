// Runs a share of the matrix's sessions off the page's thread: the engine
// itself runs every `of`-th cell from `shard` and posts each result as it is
// ready (the layout first, from shard 0; then `{id, cell}`; then `{done}`
// with its timings), so the page stays responsive and fills in. The page
// starts one worker per core and tells each its share.
import { engine } from "./engine.js";

addEventListener("message", async ({ data: { shard, of, module } }) => {
  try {
    const wasm = await engine(module);
    wasm.runMatrixShare(shard, of);
  } catch (e) {
    // A rejected promise in a worker never reaches the page: say it in a message.
    postMessage({ error: String(e?.message ?? e) });
  }
});
