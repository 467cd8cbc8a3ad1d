"""Which notebook cell is running, and the sign-in each cell started, so that running a login cell
again cancels the sign-in it left pending. Looks only at modules already imported (no IPython import)."""
from __future__ import annotations

import sys
import threading
import weakref
from typing import Any, Optional

_started: "weakref.WeakValueDictionary[str, Any]" = weakref.WeakValueDictionary()
_lock = threading.Lock()


def running_cell() -> Optional[str]:
    """The id of the notebook cell running now, or None: outside a kernel, before ipykernel 6, or
    with a front end that does not send it (JupyterLab and Notebook 7 put ``cellId`` in the execute
    request's metadata)."""
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    kernel = getattr(get_ipython() if callable(get_ipython) else None, "kernel", None)
    get_parent = getattr(kernel, "get_parent", None)
    parent = get_parent("shell") if callable(get_parent) else None
    metadata = parent.get("metadata") if isinstance(parent, dict) else None
    cell = metadata.get("cellId") if isinstance(metadata, dict) else None
    return cell if isinstance(cell, str) and cell else None


def started_in(cell: Optional[str], sign_in: Any) -> Optional[Any]:
    """Record that ``cell`` started ``sign_in``; the sign-in it had started before (None: none, or
    no cell). Kept only while something else holds it (its polling thread, a variable)."""
    if cell is None:
        return None
    with _lock:
        earlier = _started.get(cell)
        _started[cell] = sign_in
    return earlier if earlier is not sign_in else None
