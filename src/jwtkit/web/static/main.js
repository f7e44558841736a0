// The page's entry point: labels, then the debugger, the live flow, the session mode and the figures.
import { installLanguageSwitch } from "./i18n.js";
import { installDebugger } from "./debugger.js";
import { installFlow } from "./flow.js";
import { installSession } from "./session.js";
import { installMeasure } from "./measure.js";

function randomSuffix() {
  const bytes = crypto.getRandomValues(new Uint8Array(3));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

installLanguageSwitch();
document.getElementById("username").value = `learner-${randomSuffix()}`;
document.getElementById("password").value = `correct horse ${randomSuffix()}`;
installDebugger();
installFlow();
installSession();
installMeasure();
document.body.dataset.ready = "true";
