"""A login cell run again in a real kernel cancels the sign-in it left pending (the cell is known from
the execute request's ``cellId``, as JupyterLab and Notebook 7 send it); another cell's is kept."""
from __future__ import annotations

import nbformat

from support.kernel import Kernel, kernel_env  # noqa: F401 - a fixture
from support.kernel_sign_in import run_in_cell, shown_code

SIGN_IN = """
import os, nbauth
me = nbauth.login("nbauth-native", oidc_authority=os.environ["NBAUTH_DEMO_AUTHORITY"], scopes=["api:read"])
handles = globals().setdefault("handles", [])
handles.append(me)
"""


def test_running_the_login_cell_again_cancels_its_pending_sign_in(idp, kernel_env):  # noqa: F811
    kernel_env(idp.issuer)
    kernel = Kernel(nbformat.v4.new_notebook())
    with kernel.client.setup_kernel():
        run_in_cell(kernel, SIGN_IN, "login-cell")
        shown_code(kernel)
        run_in_cell(kernel, SIGN_IN, "other-cell")  # a second sign-in elsewhere stays
        shown_code(kernel)
        run_in_cell(kernel, SIGN_IN, "login-cell")
        shown_code(kernel)
        out = kernel.run("print(*(h.status.value for h in handles))\nfor h in handles: h.cancel()")
    assert out == "cancelled waiting waiting\n"
