// The lab page: a picker around one <smtp-lab>, kept in step with the URL so
// that every scenario and step has a link a teacher can share.
import "./smtp-lab.js";
import { engine, lessons, parseLink, formatLink } from "./engine.js";
import { registerOffline } from "./site.js";

registerOffline();

const lab = document.getElementById("lab");
const form = document.getElementById("picker");
const presetSelect = document.getElementById("preset");
const custom = document.getElementById("custom");
const pickerError = document.getElementById("picker-error");
let shownLink = null;
let shownSettings = {};

/** Shows the scenario in the URL's fragment (or the default lesson). */
function fromHash() {
  const text = location.hash.slice(1) || "preset=submission-587";
  if (text === shownLink) return;
  try {
    const { settings, step } = parseLink(text);
    pickerError.hidden = true;
    shownSettings = settings;
    showInPicker(settings);
    lab.setAttribute("step", String(step ?? 0));
    lab.setAttribute("scenario", formatLink(settings, null));
  } catch (e) {
    pickerError.textContent = e.message;
    pickerError.hidden = false;
  }
}

/** The picker's menus and switches set to what is shown. */
function showInPicker(settings) {
  presetSelect.value = settings.preset ?? "";
  if (!settings.preset) fillForm(settings);
}

function fillForm(settings) {
  custom.open = true;
  for (const el of form.elements) {
    if (!el.name || el.name === "preset") continue;
    if (el.type === "checkbox") el.checked = el.name === "lenient" ? Boolean(settings["lenient-end-of-data"]?.length) : Boolean(settings[el.name]);
    else if (el.tagName === "SELECT") el.value = settings[el.name] ?? (el.name === "port" ? "587" : "");
  }
}

function formSettings() {
  const s = {};
  for (const el of form.elements) {
    if (!el.name || el.name === "preset") continue;
    if (el.type === "checkbox") {
      if (el.checked && el.name === "lenient") s["lenient-end-of-data"] = ["lf-dot-crlf"];
      else if (el.checked) s[el.name] = true;
    } else if (el.tagName === "SELECT" && el.value) s[el.name] = el.name === "port" ? Number(el.value) : el.value;
  }
  return s;
}

lab.addEventListener("smtp-lab-change", (e) => {
  shownLink = e.detail.link;
  history.replaceState(null, "", `#${e.detail.link}`);
});
window.addEventListener("hashchange", fromHash);
presetSelect.addEventListener("change", () => {
  if (presetSelect.value) location.hash = formatLink({ preset: presetSelect.value }, 0);
});
form.addEventListener("submit", (e) => {
  e.preventDefault();
  presetSelect.value = "";
  location.hash = formatLink(formSettings(), 0);
});
// Stepping keys work anywhere on the page, except inside the picker's own controls.
document.addEventListener("keydown", (e) => {
  if (e.defaultPrevented || e.target.closest?.("form, input, select, textarea")) return;
  lab.handleKey(e);
});

// The session starts loading now; the menus fill in once the engine is there,
// and then show the session's settings.
fromHash();
presetSelect.replaceChildren(new Option("Choose a lesson…", ""), ...(await lessons()).map((p) => new Option(p.title, p.id)));
document.getElementById("attack").append(...(await engine()).attacks().map((a) => new Option(`${a.title} (${a.id})`, a.id)));
showInPicker(shownSettings);
