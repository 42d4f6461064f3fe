// The lab page: a picker around one <smtp-lab>, kept in step with the URL so
// that every scenario and step has a link a teacher can share. The picker's
// fields, their values and what a link means all come from the engine.
import "./smtp-lab.js";
import { engine, fields, lessonLink, lessons, recording } from "./engine.js";
import { h } from "./dom.js";
import { registerOffline } from "./site.js";

// Offline support starts caching once the first session is on screen, not before.
document.getElementById("lab").addEventListener("ready", () => registerOffline(), { once: true });

const lab = document.getElementById("lab");
const form = document.getElementById("picker");
const presetSelect = document.getElementById("preset");
const custom = document.getElementById("custom");
const fieldsBox = document.getElementById("custom-fields");
const pickerError = document.getElementById("picker-error");
let shownLink = null;
let shownValues = {};

function showError(e) {
  pickerError.textContent = e.message ?? String(e);
  pickerError.hidden = false;
}

/** Shows the scenario in the URL's fragment (or the default lesson). */
async function fromHash() {
  const text = location.hash.slice(1) || "preset=submission-587";
  if (text === shownLink) return;
  let read;
  // A lesson link is read from the lesson's recording; anything else by the engine.
  const lesson = lessonLink(text);
  const recorded = lesson && (await recording(lesson.id));
  if (recorded) {
    read = { link: recorded.link, values: recorded.values, step: lesson.step };
  } else {
    try {
      read = (await engine()).readLink(text);
    } catch (e) {
      showError(e);
      return;
    }
  }
  pickerError.hidden = true;
  shownValues = read.values;
  showInPicker();
  lab.setAttribute("step", String(read.step ?? 0));
  lab.setAttribute("scenario", read.link);
}

/** The picker's menus and switches set to what is shown. */
function showInPicker() {
  presetSelect.value = shownValues.preset ?? "";
  if (shownValues.preset) return;
  if (Object.keys(shownValues).length) custom.open = true;
  for (const el of form.elements) {
    if (!el.dataset.field) continue;
    const value = shownValues[el.dataset.field];
    if (el.type === "checkbox" && el.dataset.option) el.checked = (value ?? "").split(",").includes(el.dataset.option);
    else if (el.type === "checkbox") el.checked = value === "1";
    else el.value = value ?? "";
  }
}

/** One control per setting the engine lists (lessons and matrix cells have their own pickers). */
function buildForm(fields) {
  const groups = {};
  for (const f of fields.filter((x) => x.name !== "preset" && x.name !== "cell")) {
    const box = groups[f.group] ??= h("fieldset", { class: `group group-${f.group}` }, h("legend", {}, f.group_title));
    const data = { "data-field": f.name };
    if (f.kind === "flag") {
      box.append(h("label", { class: "check" }, h("input", { type: "checkbox", name: f.name, ...data }), ` ${f.help}`));
    } else if (f.kind === "list") {
      box.append(h("fieldset", { class: "list" }, h("legend", {}, f.help),
        f.options.map((o) => h("label", { class: "check" }, h("input", { type: "checkbox", name: f.name, value: o.id, "data-option": o.id, ...data }), ` ${o.id}: ${o.title}`))));
    } else if (!f.options.length) {
      box.append(h("label", {}, f.help, h("input", { type: "text", name: f.name, autocomplete: "off", spellcheck: "false", ...data })));
    } else {
      box.append(h("label", {}, f.help,
        h("select", { name: f.name, ...data }, h("option", { value: "" }, "default"), f.options.map((o) => h("option", { value: o.id }, o.title)))));
    }
  }
  fieldsBox.replaceChildren(...Object.values(groups));
}

/** The form as link text; the engine checks it. */
function formLink() {
  const params = new URLSearchParams();
  for (const el of form.elements) {
    const name = el.dataset.field;
    if (!name) continue;
    if (el.type === "checkbox" && el.dataset.option) {
      if (el.checked) params.set(name, [params.get(name), el.dataset.option].filter(Boolean).join(","));
    } else if (el.type === "checkbox") {
      if (el.checked) params.set(name, "1");
    } else if (el.value) params.set(name, el.value);
  }
  return decodeURIComponent(params.toString());
}

lab.addEventListener("step-change", (e) => {
  shownLink = e.detail.link;
  history.replaceState(null, "", `#${e.detail.link}`);
});
window.addEventListener("hashchange", fromHash);
// The same session with other random numbers: another seed, the same step.
document.getElementById("new-seed").addEventListener("click", async () => {
  const wasm = await engine();
  const step = wasm.readLink(location.hash.slice(1)).step ?? 0;
  const seed = String(crypto.getRandomValues(new Uint32Array(1))[0]);
  location.hash = `${wasm.readLink(new URLSearchParams({ ...shownValues, seed }).toString()).link}&step=${step}`;
});
presetSelect.addEventListener("change", () => {
  if (presetSelect.value) location.hash = `preset=${presetSelect.value}&step=0`;
});
form.addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    const read = (await engine()).readLink(formLink());
    presetSelect.value = "";
    location.hash = read.link ? `${read.link}&step=0` : "port=587&step=0";
  } catch (err) {
    showError(err);
  }
});
// Stepping keys work anywhere on the page, except inside the picker's own controls.
document.addEventListener("keydown", (e) => {
  if (e.defaultPrevented || e.target.closest?.("form, input, select, textarea")) return;
  lab.handleKey(e);
});

// The session starts loading now; the menus fill in from the engine's lists
// (recorded at build time), and then show the session's settings.
const loaded = fromHash();
// The session goes on screen first; the form (a few hundred elements) after it.
await loaded;
await lab.ready;
buildForm(await fields());
presetSelect.replaceChildren(new Option("Choose a lesson…", ""), ...(await lessons()).map((p) => new Option(p.title, p.id)));
await loaded;
showInPicker();
