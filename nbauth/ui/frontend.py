"""A front-end piece (the other is ``ui.browser``): a Copy button and a countdown that run in the browser (anywidget).

Core ipywidgets cannot write to the clipboard or tick without the kernel, so this small view does
both. Where anywidget's front end is missing (e.g. Colab without its custom widget manager) it
simply does not render; the code stays selectable in the core widgets beside it.
"""
from __future__ import annotations

import anywidget
import traitlets

_ESM = r"""
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
  label("Copy code");
  tick();
  model.on("change:expires_at", tick);
  const timer = setInterval(tick, 1000);
  return () => { clearInterval(timer); clearTimeout(reset); model.off("change:expires_at", tick); };
}

export default { render };
"""

_CSS = """
.nbauth-helper { display: flex; align-items: center; gap: 12px; margin: 2px 0 2px 12px; }
.nbauth-helper .nbauth-copy { min-width: 7em; }
.nbauth-helper .nbauth-countdown { color: var(--jp-ui-font-color2, #666); font-variant-numeric: tabular-nums; }
"""


class CodeHelper(anywidget.AnyWidget):
    """Copies ``code`` to the clipboard on click and counts down to ``expires_at`` (epoch seconds)."""

    _esm = _ESM
    _css = _CSS
    code = traitlets.Unicode("").tag(sync=True)
    expires_at = traitlets.Float(0.0).tag(sync=True)
