// What a docs writer writes: import the package, listen to its events.
import "smtp-lab";

window.smtpLabEvents = [];
for (const type of ["ready", "step-change", "outcome"]) {
  document.addEventListener(type, (e) => window.smtpLabEvents.push({ type, id: e.target.id, detail: e.detail }));
}
