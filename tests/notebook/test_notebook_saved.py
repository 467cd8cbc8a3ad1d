"""A saved sign-in in a notebook kernel with a person (the widget, as in JupyterLab): one line, "Signed
in as … (saved sign-in)", with Sign out; ``sign_out()`` says so in the same place."""
from __future__ import annotations

import os

import nbformat
import pytest

import nbauth
from idp.server import EMAILS, NATIVE_CLIENT, USERS
from support.kernel import WIDGET_VIEW, Kernel, displayed, kernel_env  # noqa: F401 - a fixture

pytestmark = pytest.mark.timeout(120)

SIGN_IN = """
import os, nbauth
me = nbauth.login("nbauth-native", oidc_authority=os.environ["NBAUTH_DEMO_AUTHORITY"], scopes=["api:read"])
"""


def test_a_saved_sign_in_is_the_widgets_one_line_and_sign_out_says_so(idp, kernel_env):  # noqa: F811
    kernel_env(idp.issuer)
    cache = nbauth.PersistedTokenCache(os.environ["NBAUTH_CACHE_PATH"])
    app = nbauth.PublicClientApplication(NATIVE_CLIENT, oidc_authority=idp.issuer, token_cache=cache)
    assert "access_token" in app.acquire_token_by_username_password("alice", USERS["alice"], ["api:read"])
    kernel = Kernel(nbformat.v4.new_notebook())
    with kernel.client.setup_kernel():
        kernel.run(SIGN_IN)
        shown = displayed(kernel.nb.cells[0])
        assert WIDGET_VIEW in shown
        assert shown["text/plain"] == (f"Signed in as {EMAILS['alice']} at {idp.issuer} (saved sign-in). "
                                       "Tokens refresh automatically.")
        assert kernel.run("w = me.presenter\nprint(w.sign_out_button.layout.display, "
                          "w.cancel_button.layout.display)") == "None none\n"  # Sign out shown, nothing else
        kernel.run("me.sign_out()")
        assert displayed(kernel.nb.cells[0])["text/plain"] == f"Signed out: {EMAILS['alice']}."
