// Compiled (not run) by `tsc -p .`: the package's declaration types the element,
// its attributes and its events.
import type { SmtpLab, SmtpLabAttributes } from "smtp-lab";

const lab: SmtpLab | null = document.querySelector("smtp-lab");
lab?.addEventListener("step-change", (e) => {
  const shown: number = e.detail.shown;
  const link: string = e.detail.link;
  console.log(shown, link);
});
lab?.addEventListener("outcome", (e) => {
  const attackWorked: boolean = e.detail.compromise;
  console.log(attackWorked, e.detail.text);
});
const state: SmtpLab["state"] = lab?.state ?? "idle";
const attrs: SmtpLabAttributes = { scenario: "strip-465", compact: true, controls: "step", loading: "eager" };
lab?.jumpTo(3);
export { state, attrs };
