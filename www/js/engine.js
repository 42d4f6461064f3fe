// Loads the wasm engine once, whichever page or element asks first. Every
// session, verdict, link and export comes from it; nothing here decides.
import init, * as wasm from "../pkg/smtp_lab.js";

let ready;

/** The engine's exports (Lab, readLink, settingsFields, presets, attacks, matrix), once the wasm has loaded. */
export function engine() {
  ready ??= init({ module_or_path: new URL("../pkg/smtp_lab_bg.wasm", import.meta.url) }).then(() => wasm);
  return ready;
}

let lessonList;

/** The lessons (id, title, description), read from the engine once. */
export function lessons() {
  lessonList ??= engine().then((e) => e.presets());
  return lessonList;
}
