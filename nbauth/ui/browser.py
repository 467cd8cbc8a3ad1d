"""The widget's browser sign-in (anywidget): the two choices, the sign-in window, its answer.

"Sign in with browser" opens a blank window at once (in the click, so no popup blocker stops it),
sends the kernel the redirect URI computed from the page (``#jupyter-config-data``: ``baseUrl``, or
under JupyterHub ``hubPrefix`` + ``user-redirect/``), and points the window at the ``auth_uri`` the
kernel answers with (a custom message: it never enters the widget's saved state, nor does the key
that seals the answer for the click relay, ``ui.relay``). The redirect's
parameters come back on ``BroadcastChannel("nbauth-sign-in")`` from nbauth's callback page, or,
where that page is not served, by reading the window's address once it is back on this origin;
only those carrying this sign-in's ``state`` go to the kernel (over the comm, and sealed through the
click relay, so a cell waiting in ``token()`` gets them too). A blocked window becomes a link; a
window closed before the answer returns to the choices; a window cut off by the provider's
``Cross-Origin-Opener-Policy`` is said so. ``phase`` (``choose``, ``browser`` or empty) is the
kernel's; nothing secret is ever a trait.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import anywidget
import traitlets

from .frontend import RELAY_JS
from .relay import encode_key

_ESM = RELAY_JS + r"""
const CHANNEL = "nbauth-sign-in";
const FEATURES = "popup,width=520,height=700";
// A provider's Cross-Origin-Opener-Policy cuts the window off as its first page arrives (chromium may
// show that page as foreign for a moment first): without the callback page, where nothing else can
// bring the answer back, a window that closes this soon is said to be cut off, a later one closed.
const CUT_OFF_MS = 1000;

function callbackUris() {
  const data = configData();
  const base = window.location.origin + slashed(data.baseUrl);
  const redirect = data.hubPrefix ? window.location.origin + slashed(data.hubPrefix) + "user-redirect/" : base;
  return { redirect: redirect + "nbauth/callback", page: base + "nbauth/callback" };
}
// The redirect's parameters sealed (AES-GCM) with the kernel's key for this sign-in, bound to the
// relay id: only the kernel can read them, so they may go through the relay file. Null where the
// page cannot (no WebCrypto outside a secure context): then they go over the comm alone.
async function seal(key, relayId, params) {
  if (!key || !relayId || !(window.crypto && crypto.subtle)) return null;
  const raw = Uint8Array.from(atob(key.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
  const aes = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt"]);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = new TextEncoder().encode(JSON.stringify(params));
  const sealed = new Uint8Array(await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: new TextEncoder().encode(relayId) }, aes, data));
  const all = new Uint8Array(iv.length + sealed.length);
  all.set(iv); all.set(sealed, iv.length);
  return btoa(String.fromCharCode(...all)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
function el(tag, cls, text) {
  const node = document.createElement(tag);
  node.className = cls;
  if (text) node.textContent = text;
  return node;
}

function render({ model, el: root }) {
  root.classList.add("nbauth-browser");
  const primary = el("button", "nbauth-browser-start jupyter-button widget-button mod-primary", "Sign in with browser");
  const secondary = el("button", "nbauth-use-code jupyter-button widget-button", "Use a code instead");
  const note = el("span", "nbauth-browser-note");
  const link = el("a", "nbauth-browser-link", "Open the sign-in page");
  link.target = "_blank";
  link.style.display = "none";  // only for a window the browser blocked
  root.append(primary, secondary, note, link);
  let popup = null, expected = null, watch = null, foreignSince = 0, channel = null, extension = null;
  let starting = null, key = null;  // this view's pending "start" click; the answer's sealing key

  function show() {
    const phase = model.get("phase");
    primary.style.display = secondary.style.display = phase === "choose" ? "" : "none";
    root.style.display = phase ? "" : "none";
    if (phase !== "browser") { note.textContent = ""; link.style.display = "none"; stopWatching(); shut(); }
    if (!phase) forget();
  }
  function say(text, withLink) {
    note.textContent = text;
    link.style.display = withLink ? "" : "none";
  }
  function stopWatching() { clearInterval(watch); watch = null; }
  function shut() {  // a window whose sign-in ended (cancelled, timed out, answered) can do nothing more
    try { if (popup && !popup.closed) popup.close(); } catch (e) { /* cut off */ }
    popup = null;
  }
  function forget() {
    expected = null;
    key = null;
    if (channel) { channel.close(); channel = null; }
  }
  async function deliver(params) {
    if (!expected || params.state !== expected) return;
    const sealKey = key;
    forget();
    stopWatching();
    shut();
    const click = { action: "redirect", id: clickId() };
    model.send({ kind: "click", click, params });  // the comm: the parameters as they are
    const sealed = await seal(sealKey, model.get("relay_id"), params).catch(() => null);
    if (sealed) relay(model, Object.assign({ sealed }, click));  // the relay: sealed, same id
  }
  function listen() {
    if (channel) channel.close();
    channel = new BroadcastChannel(CHANNEL);
    channel.onmessage = (event) => {
      const data = event.data || {};
      if (data.type === "nbauth-redirect" && data.params && typeof data.params === "object") deliver(data.params);
    };
  }
  function look() {  // the fallback: read the window's address once it is back on this origin
    if (popup.closed) {
      stopWatching();
      const early = !foreignSince || Date.now() - foreignSince < CUT_OFF_MS;
      extension.then((active) => {
        if (!expected) return;
        if (active && !foreignSince) say("The provider's page cut the sign-in window off from this notebook " +
          "(Cross-Origin-Opener-Policy); finish signing in there: the answer still comes back.", false);
        else sendClick(model, "closed", { cut_off: !active && early });
      });
      return;
    }
    let href = "";
    try { href = popup.location.href; } catch (e) { foreignSince = foreignSince || Date.now(); return; }
    if (!href.startsWith(window.location.origin + "/")) return;
    const params = Object.fromEntries(new URL(href).searchParams);
    if (params.state) deliver(params);
  }
  function follow(win) {
    popup = win;
    foreignSince = 0;
    stopWatching();
    watch = setInterval(look, 150);
    say("Sign in in the window that opened; this line changes when you are back.", false);
  }
  function open(authUri, sealKey) {
    expected = new URL(authUri).searchParams.get("state");
    key = sealKey || null;
    link.href = authUri;
    listen();
    if (popup && !popup.closed) {
      popup.location.href = authUri;
      follow(popup);
    } else {
      say("The browser blocked the sign-in window.", true);
    }
  }
  link.addEventListener("click", (event) => {
    const win = window.open(link.href, "nbauth-sign-in", FEATURES);
    if (win) { event.preventDefault(); follow(win); }
  });
  primary.addEventListener("click", () => {
    popup = window.open("", "nbauth-sign-in", FEATURES);  // now, in the click: blockers allow it
    const uris = callbackUris();
    extension = fetch(uris.page, { credentials: "same-origin" }).then((r) => r.ok, () => false);
    starting = sendClick(model, "start", { redirect_uri: uris.redirect });
  });
  secondary.addEventListener("click", () => sendClick(model, "use_code"));
  model.on("msg:custom", (msg) => {  // the kernel's answer to this view's "start"
    if (!msg || !starting || msg.click !== starting) return;
    starting = null;
    if (msg.kind === "open" && typeof msg.auth_uri === "string") open(msg.auth_uri, msg.key);
    else if (msg.kind === "refused") shut();
  });
  model.on("change:phase", show);
  show();
  return () => { stopWatching(); forget(); model.off("change:phase", show); };
}

export default { render };
"""

_CSS = """
.nbauth-browser { display: flex; align-items: center; flex-wrap: wrap; gap: 8px; margin: 4px 0; }
.nbauth-browser .nbauth-browser-start, .nbauth-browser .nbauth-use-code { width: auto; padding: 0 12px; }
.nbauth-browser .nbauth-browser-link { color: var(--jp-content-link-color, #1a73e8); text-decoration: underline; }
"""


class BrowserHelper(anywidget.AnyWidget):
    """The browser sign-in's front end; ``phase`` is ``choose``, ``browser`` or empty (hidden).
    Its clicks go to ``on_click`` (the comm's copy; the relay brings the other); ``answer`` replies
    to a "start" click."""

    _esm = _ESM
    _css = _CSS
    phase = traitlets.Unicode("").tag(sync=True)
    relay_id = traitlets.Unicode("").tag(sync=True)

    def __init__(self, on_click: Callable[[Any], None], **kwargs: Any):
        super().__init__(**kwargs)
        self.on_msg(lambda _widget, content, _buffers: on_click(content))

    def answer(self, click_id: str, auth_uri: Optional[str], key: bytes) -> None:
        """Point the window of the view that sent ``click_id`` at ``auth_uri`` (None: refused, close
        it); ``key`` seals the redirect's answer for the relay (a message, never a trait)."""
        if auth_uri:
            self.send({"kind": "open", "click": click_id, "auth_uri": auth_uri, "key": encode_key(key)})
        else:
            self.send({"kind": "refused", "click": click_id})
