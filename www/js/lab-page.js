// The lab page: a picker around one <smtp-lab>, kept in step with the URL so
// that every scenario and step has a link a teacher can share. The picker's
// fields, their sections, their values, what a link means and what is wrong
// with one all come from the engine; this page only draws them.
import "./smtp-lab.js";
import { engine, engineLoaded, fieldDefault, fieldLabel, fields, lessonLink, lessons, linkProblem, recording, warmEngine } from "./engine.js";
import { h } from "./dom.js";
import { registerOffline } from "./site.js";

const lab = document.getElementById("lab");
const form = document.getElementById("picker");
const presetSelect = document.getElementById("preset");
const custom = document.getElementById("custom");
const fieldsBox = document.getElementById("custom-fields");
const summary = document.getElementById("setup-summary");
const pickerError = document.getElementById("picker-error");
const runButton = document.getElementById("run-setup");
const runStatus = document.getElementById("run-status");
const presentButton = document.getElementById("present");
const nextLesson = document.getElementById("next-lesson");
const DEFAULT = "preset=submission-587";
/** The lesson menu's entry for a lesson with settings changed. */
const CHANGED = "changed";
let shownLink = null;
let shownValues = {};
let allFields = [];
let allLessons = [];
/** The page was opened (or navigated) by a link: show its session, not the page's top. */
let fromLink = Boolean(location.hash.slice(1));
/** The learner picked a lesson from the menu: the stepping keys go to the session once it is shown. */
let focusAfter = false;

// Offline support starts caching once the first session is on screen, not before; the engine
// is fetched when the browser is idle, so custom setups work offline after the first visit.
lab.addEventListener("ready", () => { registerOffline(); warmEngine(); }, { once: true });

/** A link's text without its step. */
const withoutStep = (link) => link.replace(/(^|&)step=\d+$/, "");

/** Shows a link's problem in the lab's words, next to what caused it, with the nearest valid value as a link. */
async function showProblem(text, error) {
  const problem = error?.name === "EngineUnavailable" ? null : await linkProblem(text);
  const parts = [problem?.message ?? error?.message ?? String(error)];
  if (problem?.suggested_link) {
    parts.push(" Did you mean ", h("a", { href: `#${problem.suggested_link}` }, problem.suggestion), "?");
  } else if (problem?.suggestion) {
    parts.push(` Did you mean ${problem.suggestion}?`);
  }
  pickerError.replaceChildren(...parts);
  pickerError.hidden = false;
  // Nothing to show yet: no empty session box under the message.
  if (!lab.length) lab.hidden = true;
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  const field = problem?.setting === "preset" ? presetSelect : form.querySelector(`[data-field="${problem?.setting}"]`);
  if (field) {
    field.setAttribute("aria-invalid", "true");
    field.setAttribute("aria-describedby", "picker-error");
    if (field !== presetSelect) {
      custom.open = true;
      field.closest("details.section")?.setAttribute("open", "");
    }
  }
}

/** Shows the scenario in the URL's fragment (or the default lesson). */
async function fromHash() {
  const text = location.hash.slice(1) || DEFAULT;
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
      await showProblem(text, e);
      return;
    }
  }
  pickerError.hidden = true;
  lab.hidden = false;
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  shownValues = read.values;
  showInPicker();
  const step = String(read.step ?? 0);
  const same = lab.getAttribute("scenario") === read.link;
  lab.setAttribute("step", step);
  lab.setAttribute("scenario", read.link);
  // After a fork or an opened file the element shows another session than its attribute
  // names: asking for the attribute's own session again runs it again.
  if (same && withoutStep(lab.link) !== read.link) {
    await lab.restart();
    lab.jumpTo(read.step ?? 0, false);
  }
  await lab.ready;
  if (fromLink) {
    fromLink = false;
    lab.scrollIntoView({ block: "start" });
  }
  if (focusAfter) {
    focusAfter = false;
    lab.focusControls();
  }
}

/** A setting's name in the lab's words (its help, without the note on its default). */

/** The picker's menus and switches set to what is shown, and the setup's summary in one line. */
function showInPicker() {
  // A lesson with settings changed (a fork, a link) is not the lesson: the menu says so, and
  // picking the lesson itself from it runs the lesson again.
  presetSelect.querySelector("option[data-changed]")?.remove();
  const changed = shownValues.preset && Object.keys(shownValues).some((k) => k !== "preset" && k !== "seed");
  if (changed) {
    const lesson = allLessons.find((l) => l.id === shownValues.preset);
    presetSelect.prepend(h("option", { value: CHANGED, "data-changed": true }, `${lesson ? `${lesson.number}. ${lesson.title}` : shownValues.preset}, with settings changed`));
  }
  presetSelect.value = changed ? CHANGED : shownValues.preset ?? "";
  showNextLesson();
  const shown = Object.entries(shownValues).filter(([name]) => name !== "seed");
  summary.textContent = shown.length && !shownValues.preset
    ? ` · now: ${shown.map(([name, value]) => {
      const f = allFields.find((x) => x.name === name);
      return f?.kind === "flag" ? fieldLabel(f) : `${name} ${f?.options.find((o) => o.id === value)?.title ?? value}`;
    }).join("; ")}`
    : "";
  for (const el of form.elements) {
    if (!el.dataset.field) continue;
    const value = shownValues[el.dataset.field];
    if (el.type === "checkbox" && el.dataset.option) el.checked = (value ?? "").split(",").includes(el.dataset.option);
    else if (el.type === "checkbox") el.checked = value === "1";
    else {
      // A value the menu does not list (a port no RFC names) is shown as itself, not as a blank menu.
      if (el.tagName === "SELECT" && value && ![...el.options].some((o) => o.value === value)) {
        el.append(h("option", { value, "data-added": true }, `${value} (not one of the usual ports)`));
      }
      el.value = value ?? "";
    }
  }
}

/** Under a lesson: where it is in the course, and a link to the next one. */
function showNextLesson() {
  const lesson = allLessons.find((l) => l.id === shownValues.preset);
  const alone = lesson && Object.keys(shownValues).every((k) => k === "preset" || k === "seed");
  nextLesson.hidden = !alone;
  if (!alone) return;
  const next = allLessons.find((l) => l.id === lesson.next);
  nextLesson.replaceChildren(
    h("span", {}, `Lesson ${lesson.number} of ${allLessons.length} · ${lesson.topic_title}. `),
    next ? h("a", { href: `#preset=${next.id}&step=0`, class: "button-link", onclick: () => { focusAfter = true; } }, `Next lesson: ${next.number}. ${next.title} ▶`)
      : h("span", {}, "This is the last lesson."));
}

/** One control per setting the engine lists, in the engine's sections: the first open, the rest folded. */
function buildForm(list) {
  allFields = list;
  const sections = new Map();
  for (const f of list.filter((x) => x.name !== "preset" && x.name !== "cell")) {
    if (!sections.has(f.section)) sections.set(f.section, { title: f.section_title, controls: [] });
    const data = { "data-field": f.name };
    const text = fieldLabel(f);
    let control;
    if (f.kind === "flag") {
      control = h("label", { class: "check" }, h("input", { type: "checkbox", name: f.name, ...data }), ` ${text}`);
    } else if (f.kind === "list") {
      control = h("fieldset", { class: "list" }, h("legend", {}, text),
        f.options.map((o) => h("label", { class: "check" }, h("input", { type: "checkbox", name: f.name, value: o.id, "data-option": o.id, ...data }), ` ${o.title}`)));
    } else if (!f.options.length) {
      control = h("label", {}, text, h("input", { type: "text", name: f.name, autocomplete: "off", spellcheck: "false", inputmode: f.name === "seed" ? "numeric" : null, ...data }));
    } else {
      control = h("label", {}, text,
        h("select", { name: f.name, ...data }, h("option", { value: "" }, fieldDefault(f) ? `default (${fieldDefault(f)})` : "default"),
          f.options.map((o) => h("option", { value: o.id }, o.title))));
    }
    sections.get(f.section).controls.push(control);
  }
  const [first, ...rest] = [...sections.entries()];
  fieldsBox.replaceChildren(
    h("fieldset", { class: `group section-${first[0]}` }, h("legend", {}, first[1].title), first[1].controls),
    ...rest.map(([id, { title, controls }]) => h("details", { class: `section section-${id}` }, h("summary", {}, title),
      h("fieldset", { class: "group" }, h("legend", { class: "sr-only" }, title), controls))));
}

/** The form as link text (on top of the lesson shown, if any); the engine checks it. */
function formLink() {
  const params = new URLSearchParams();
  const lesson = presetSelect.value === CHANGED ? shownValues.preset : presetSelect.value;
  if (lesson) params.set("preset", lesson);
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

lab.addEventListener("step-change", async (e) => {
  shownLink = e.detail.link;
  history.replaceState(null, "", `${location.pathname}${location.search}#${e.detail.link}`);
  // A fork or an opened file changed the settings: the form follows what is shown.
  if (engineLoaded()) {
    const read = (await engine()).readLink(e.detail.link);
    if (JSON.stringify(read.values) !== JSON.stringify(shownValues)) {
      shownValues = read.values;
      showInPicker();
    }
  }
});
window.addEventListener("hashchange", () => { fromLink = true; fromHash(); });
// The same session with other random numbers: another seed, the same step.
document.getElementById("new-seed").addEventListener("click", async () => {
  const wasm = await engine();
  const step = wasm.readLink(location.hash.slice(1) || DEFAULT).step ?? 0;
  const seed = String(crypto.getRandomValues(new Uint32Array(1))[0]);
  location.hash = `${wasm.readLink(new URLSearchParams({ ...shownValues, seed }).toString()).link}&step=${step}`;
});
presetSelect.addEventListener("change", () => {
  if (!presetSelect.value || presetSelect.value === CHANGED) return;
  focusAfter = true;
  const target = `preset=${presetSelect.value}&step=0`;
  // Picking the lesson already named by the URL (after a fork, say) runs it again.
  if (location.hash.slice(1) === target) { shownLink = null; fromHash(); } else location.hash = target;
});
form.addEventListener("submit", async (e) => {
  e.preventDefault();
  runButton.disabled = true;
  const loading = engineLoaded() ? null : "Loading the lab's engine…";
  runStatus.textContent = loading ?? "";
  try {
    const wasm = loading ? await lab.whileBusy(loading, engine()) : await engine();
    const read = wasm.readLink(formLink());
    const target = read.link ? `${read.link}&step=0` : "port=587&step=0";
    if (location.hash.slice(1) === target) { shownLink = null; await fromHash(); } else location.hash = target;
    runStatus.textContent = "";
  } catch (err) {
    runStatus.textContent = "";
    await showProblem(formLink(), err);
  } finally {
    runButton.disabled = false;
  }
});

/** Projector mode: the session fills the screen at large type; the page's header and form step aside. */
function present(on) {
  document.body.classList.toggle("presenting", on);
  lab.toggleAttribute("present", on);
  presentButton.setAttribute("aria-pressed", String(on));
  presentButton.textContent = on ? "Leave projector mode" : "Present";
  const url = new URL(location.href);
  if (on) url.searchParams.set("present", ""); else url.searchParams.delete("present");
  history.replaceState(null, "", url.href.replace("present=", "present"));
  if (on) lab.focusControls();
}
presentButton.addEventListener("click", () => present(!document.body.classList.contains("presenting")));

// Stepping keys work anywhere on the page (a presenter's clicker sends Page Down and Page Up),
// but not in the picker's own controls; Space, Home and End only inside the session.
const PAGE_KEYS = new Set(["ArrowRight", "ArrowLeft", "j", "k", "PageDown", "PageUp", "p"]);
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && document.body.classList.contains("presenting")) { present(false); return; }
  if (e.defaultPrevented || !PAGE_KEYS.has(e.key) || e.target.closest?.("form, input, select, textarea, [contenteditable]")) return;
  lab.handleKey(e);
});

if (new URLSearchParams(location.search).has("present")) present(true);
// The session starts loading now; the menus fill in from the engine's lists
// (recorded at build time), whether or not the link worked.
const loaded = fromHash();
const [fieldList, lessonList] = await Promise.all([fields(), lessons()]);
allLessons = lessonList;
buildForm(fieldList);
const groups = new Map();
for (const l of lessonList) {
  if (!groups.has(l.topic_title)) groups.set(l.topic_title, h("optgroup", { label: l.topic_title }));
  groups.get(l.topic_title).append(new Option(`${l.number}. ${l.title}`, l.id));
}
presetSelect.replaceChildren(new Option("Choose a lesson…", ""), ...groups.values());
await loaded;
showInPicker();
