// The embed demo: exactly what a documentation site would load.
import "./smtp-lab.js";
import { registerOffline } from "./site.js";

registerOffline();
