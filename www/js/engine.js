// Loads the wasm engine once, whichever page or element asks first. Every
// session, verdict and export comes from it; nothing here decides an outcome.
import init, * as wasm from "../pkg/smtp_lab.js";

let ready;

/** The engine's exports (Lab, presets, attacks, matrix), after the wasm has loaded. */
export function engine() {
  ready ??= init({ module_or_path: new URL("../pkg/smtp_lab_bg.wasm", import.meta.url) }).then(() => wasm);
  return ready;
}

let lessonList;

/** The preset lessons (id, title, description, scenario), read from the engine once. */
export function lessons() {
  lessonList ??= engine().then((wasm) => wasm.presets());
  return lessonList;
}

// Deep links and the embed element use the CLI's flag names (see src/settings.rs).
const NUMBERS = new Set(["port"]);
const FLAGS = new Set([
  "require-tls", "server-keeps-buffer", "server-keeps-state", "client-keeps-buffer",
  "client-reuses-capabilities", "no-auth", "no-pipelining",
]);
const BOOLS = new Set(["validate"]);
const LISTS = new Set(["lenient-end-of-data"]);
const TEXT = new Set(["preset", "cell", "role", "policy", "server-tls", "auth", "cert", "attack", "mechanism"]);
/** Every name a link may carry: the settings, plus the step. */
export const KNOWN = new Set([...NUMBERS, ...FLAGS, ...BOOLS, ...LISTS, ...TEXT, "step"]);

/**
 * Reads "preset=x&step=4" or "port=587&attack=strip" (a bare word is a preset id)
 * into { settings, step }. Unknown names are an error, not silently dropped.
 */
export function parseLink(text) {
  const raw = (text || "").replace(/^#/, "").trim();
  if (raw && !raw.includes("=")) return { settings: { preset: raw }, step: null };
  const params = new URLSearchParams(raw);
  const settings = {};
  let step = null;
  for (const [key, value] of params) {
    if (!KNOWN.has(key)) throw new Error(`unknown setting "${key}" in the link`);
    if (key === "step") step = Math.max(0, Number.parseInt(value, 10) || 0);
    else if (NUMBERS.has(key)) {
      settings[key] = Number.parseInt(value, 10);
      if (!Number.isInteger(settings[key]) || settings[key] < 1 || settings[key] > 65535) throw new Error(`"${key}" must be a port number, not "${value}"`);
    }
    else if (FLAGS.has(key) || BOOLS.has(key)) settings[key] = value !== "0" && value !== "false";
    else if (LISTS.has(key)) settings[key] = value.split(",").filter(Boolean);
    else settings[key] = value;
  }
  return { settings, step };
}

/** The link text for settings and a step, in a stable order. */
export function formatLink(settings, step) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(settings)) {
    if (value === undefined || value === null || value === false && FLAGS.has(key)) continue;
    if (Array.isArray(value)) { if (value.length) params.set(key, value.join(",")); }
    else if (FLAGS.has(key)) params.set(key, "1");
    else params.set(key, String(value));
  }
  if (step !== null && step !== undefined) params.set("step", String(step));
  return params.toString();
}

/** The same session as an `smtp-lab run` command line. */
export function commandLine(settings) {
  const args = ["smtp-lab", "run"];
  for (const [key, value] of Object.entries(settings)) {
    if (key === "cell" || value === undefined || value === null || value === false) continue;
    if (key === "validate") args.push(value ? "--validate" : "--no-validate");
    else if (FLAGS.has(key)) args.push(`--${key}`);
    else if (Array.isArray(value)) { if (value.length) args.push(`--${key}`, value.join(",")); }
    else args.push(`--${key}`, String(value).toLowerCase());
  }
  return args.join(" ");
}
