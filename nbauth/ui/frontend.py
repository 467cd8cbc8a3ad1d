"""The widget's front-end piece (anywidget; ``ui.browser`` is the other): Copy, a countdown, and the
clicks' second path to a busy kernel.

Core ipywidgets cannot write to the clipboard or tick without the kernel, so this small view does
both. It also carries the sign-in's clicks: a click on any of the widget's buttons (core buttons
with a ``nbauth-act-<action>`` class) is taken here, before the button sees it, and sent twice with
one id: over the widget's comm and through nbauth's server extension (``ui.relay``), which reaches
the kernel while a cell waits; the kernel acts on the first to arrive. On render it says hello
through the relay, so the kernel learns the relay reaches it. Where anywidget's front end is
missing this view does not render: the buttons then work over the comm alone (when the kernel is
idle), and the widget's style sheet hides the error box and shows the kernel's expiry text instead.
"""
from __future__ import annotations

import anywidget
import traitlets

#: Shared by both front-end pieces: the page's Jupyter base URL, and a click sent both ways.
RELAY_JS = r"""
function configData() {
  const node = document.getElementById("jupyter-config-data");
  try { return JSON.parse(node ? node.textContent : "{}"); } catch (e) { return {}; }
}
function slashed(path) {
  const inner = String(path || "").replace(/^\/+|\/+$/g, "");
  return inner ? `/${inner}/` : "/";
}
function baseUrl() { return window.location.origin + slashed(configData().baseUrl); }
function xsrf() {
  const found = document.cookie.match(/(?:^|;\s*)_xsrf=([^;]*)/);
  return found ? decodeURIComponent(found[1]) : "";
}
function clickId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
// Through nbauth's server extension, to the file the kernel watches; whether it took the click.
function relay(model, click) {
  const id = model.get("relay_id");
  if (!id) return Promise.resolve(false);
  return fetch(`${baseUrl()}nbauth/relay/${id}`, {
    method: "POST", credentials: "same-origin", body: JSON.stringify(click),
    headers: { "Content-Type": "application/json", "X-XSRFToken": xsrf() },
  }).then((r) => r.ok, () => false);
}
// A click, both ways with one id (the kernel acts on the first copy); its id.
function sendClick(model, action, extra) {
  const click = Object.assign({ action, id: clickId() }, extra || {});
  model.send({ kind: "click", click });
  relay(model, click);
  return click.id;
}
"""

_ESM = RELAY_JS + r"""
function pad(n) { return String(n).padStart(2, "0"); }

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try { await navigator.clipboard.writeText(text); return true; } catch (e) { /* try the old way */ }
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  let done = false;
  try { done = document.execCommand("copy"); } catch (e) { done = false; }
  area.remove();
  return done;
}

function render({ model, el }) {
  el.classList.add("nbauth-helper");
  const button = document.createElement("button");
  button.className = "nbauth-copy jupyter-button widget-button";
  button.type = "button";
  const countdown = document.createElement("span");
  countdown.className = "nbauth-countdown";
  el.append(button, countdown);
  let reset = null;

  function label(text) {
    button.textContent = text;
    clearTimeout(reset);
    if (text !== "Copy code") reset = setTimeout(() => label("Copy code"), 2000);
  }
  button.addEventListener("click", async () => {
    label(await copyText(model.get("code")) ? "Copied" : "Select the code to copy it");
  });

  function tick() {
    const left = Math.max(0, Math.round(model.get("expires_at") - Date.now() / 1000));
    countdown.textContent = !model.get("expires_at") ? "" :
      left > 0 ? `Code expires in ${Math.floor(left / 60)}:${pad(left % 60)}` : "Code expired";
  }
  // The widget's buttons: taken before they see the click, and sent both ways.
  function take(event) {
    const target = event.target instanceof Element ? event.target.closest("button") : null;
    const action = target && [...target.classList].find((c) => c.startsWith("nbauth-act-"));
    const root = el.closest(".nbauth-signin");
    if (!action || !root || target.closest(".nbauth-signin") !== root) return;
    event.stopPropagation();
    event.preventDefault();
    sendClick(model, action.slice("nbauth-act-".length));
  }
  document.addEventListener("click", take, true);
  relay(model, { action: "hello", id: clickId() });
  label("Copy code");
  tick();
  model.on("change:expires_at", tick);
  const timer = setInterval(tick, 1000);
  return () => {
    clearInterval(timer); clearTimeout(reset); model.off("change:expires_at", tick);
    document.removeEventListener("click", take, true);
  };
}

export default { render };
"""

_CSS = """
.nbauth-helper { display: flex; align-items: center; gap: 12px; margin: 2px 0 2px 12px; }
.nbauth-helper .nbauth-copy { min-width: 7em; }
.nbauth-helper .nbauth-countdown { opacity: 0.8; font-variant-numeric: tabular-nums; }
.jupyter-widgets-disconnected .nbauth-helper .nbauth-countdown { display: none; }
"""


class CodeHelper(anywidget.AnyWidget):
    """Copies ``code`` to the clipboard on click, counts down to ``expires_at`` (epoch seconds),
    and relays the widget's clicks for the relay file ``relay_id`` (empty: the comm only)."""

    _esm = _ESM
    _css = _CSS
    code = traitlets.Unicode("").tag(sync=True)
    expires_at = traitlets.Float(0.0).tag(sync=True)
    relay_id = traitlets.Unicode("").tag(sync=True)
