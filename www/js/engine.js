// Loads the wasm engine once, whichever page or element asks first, and only
// when something needs it: a lesson is shown from its recording (made by the
// same engine at build time) until the learner does something only the
// engine can do. Every session, verdict, link and export comes from it;
// nothing here decides.

let ready;
let loaded = false;

/** Where the engine's code is, for a page that compiles it once for several workers. */
export const ENGINE_WASM = new URL("../pkg/smtp_lab_bg.wasm", import.meta.url);
const ENGINE_JS = new URL("../pkg/smtp_lab.js", import.meta.url);

/** The engine could not be downloaded (offline before it was ever cached, or the server is gone). */
export class EngineUnavailable extends Error {
  constructor(cause) {
    super("This needs the lab's engine, which could not be downloaded: you may be offline. "
      + "Lessons still work from their recordings; once the engine has been downloaded once, the rest of the lab works offline too.");
    this.name = "EngineUnavailable";
    this.cause = cause;
  }
}

/** The engine's exports (Lab, readLink, settingsFields, presets, ...), loading it on first call (from `module` if given). */
export function engine(module) {
  ready ??= import("../pkg/smtp_lab.js").then(async (wasm) => {
    await wasm.default({ module_or_path: module ?? ENGINE_WASM });
    loaded = true;
    return wasm;
  }).catch((e) => {
    // A later call tries again (the network may be back).
    ready = undefined;
    throw new EngineUnavailable(e);
  });
  return ready;
}

/** Whether the engine is loaded already (so a caller knows whether to say it is loading). */
export function engineLoaded() { return loaded; }

/**
 * Asks the service worker, once it is active and the browser is idle, to
 * fetch and keep the engine's files for offline use, without running them
 * (the first visit's session comes from a recording). Without a service
 * worker there is nothing to keep them in, so nothing is fetched; skipped too
 * when the reader asked to save data.
 */
export function warmEngine() {
  if (loaded || navigator.connection?.saveData || !("serviceWorker" in navigator)) return;
  const idle = globalThis.requestIdleCallback ?? ((fn) => setTimeout(fn, 2000));
  navigator.serviceWorker.ready.then((registration) => idle(() => {
    registration.active?.postMessage({ keep: [ENGINE_JS.href, ENGINE_WASM.href] });
  }, { timeout: 10_000 }));
}

/** A link's problem in the lab's words (`{setting, value, message, suggestion, suggested_link}`), or null. */
export async function linkProblem(text) {
  try {
    return (await engine()).linkProblem(text) ?? null;
  } catch (e) {
    return null;
  }
}

// Each URL is written out as `new URL("../recorded/…", import.meta.url)` so that
// bundlers (Vite, Rollup, webpack) see the files and ship them with the module.
const json = (url) => fetch(url).then((r) => (r.ok ? r.json() : Promise.reject(new Error(`${url}: ${r.status}`))));
const cache = new Map();
const once = (key, url) => {
  if (!cache.has(key)) cache.set(key, json(url()));
  return cache.get(key);
};

/** The lessons (id, title, description), as the engine lists them (recorded at build time). */
export function lessons() {
  return once("lessons.json", () => new URL("../recorded/lessons.json", import.meta.url));
}

/** Every setting the form offers, as the engine lists them (recorded at build time). */
export function fields() {
  return once("fields.json", () => new URL("../recorded/fields.json", import.meta.url));
}

/** A setting's name for people: the engine's help text for it without the "(default: …)" at its end. */
export const fieldLabel = (f) => f.help.replace(/\s*\(default[^)]*\)$/, "");

/** What a setting is when the link does not give it, from the "(default: …)" in its help text; else null. */
export const fieldDefault = (f) => f.help.match(/\(default: ([^)]*)\)/)?.[1] ?? null;

/** A link that names a lesson and nothing else but a step: `{ id, step }` (step null when absent); else null. */
export function lessonLink(text) {
  const m = /^(?:preset=)?([a-z0-9-]+)(?:&step=(\d+))?$/.exec(text);
  return m && { id: m[1], step: m[2] === undefined ? null : Number(m[2]) };
}

/** A lesson as the engine ran it at build time, or null when there is no recording. */
export async function recording(id) {
  if (!/^[a-z0-9-]+$/.test(id)) return null;
  // Only lessons have recordings: a mistyped id asks the engine, not the server.
  if (!(await lessons().catch(() => [])).some((l) => l.id === id)) return null;
  // The lab page carries its default lesson's recording inline (see xtask's stamp_page).
  const inline = globalThis.document?.getElementById(`recording-${id}`);
  if (inline && !cache.has(id)) cache.set(id, Promise.resolve(JSON.parse(inline.textContent)));
  return (cache.get(id) ?? once(id, () => new URL(`../recorded/${id}.json`, import.meta.url))).catch(() => null);
}
