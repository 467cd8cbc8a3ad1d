"""Reading a sign-in from inside a test kernel (helpers, no tests).

In the notebook widget the provider is asked in the background after the login cell ends, and
nbclient keeps only the messages of the cell it is running, so these ask the kernel itself."""
from __future__ import annotations

import json


def shown_code(kernel, name: str = "me", timeout: float = 30) -> str:
    """The device code the handle ``name`` shows, once the background contact brought one (marked in
    the cell's output: what background threads log meanwhile lands in it too)."""
    out = kernel.run(f"assert {name}.wait_until(lambda state: state.user_code, {timeout}), {name}.state\n"
                     f"print('shown-code:' + {name}.state.user_code)")
    return out.split("shown-code:", 1)[1].split()[0]


def shown_bundle(kernel, name: str = "me") -> dict:
    """What the handle's display carries now for front ends without widgets (text/plain, text/html)."""
    out = kernel.run("import json\nbundle = {0}.presenter._repr_mimebundle_()\n"
                     "print(json.dumps({{k: bundle[k] for k in ('text/plain', 'text/html')}}))".format(name))
    return json.loads(out)


def widget_values(kernel) -> str:
    """Every widget's ``value`` in the kernel now (what a saved notebook's widget state keeps), joined."""
    out = kernel.run("import ipywidgets, json\n"
                     "print(json.dumps([s['state'].get('value', '') for s in "
                     "ipywidgets.Widget.get_manager_state()['state'].values()]))")
    return " ".join(str(value) for value in json.loads(out))


def run_in_cell(kernel, source: str, cell_id: str) -> None:
    """Run ``source`` as JupyterLab and Notebook 7 do, with ``cellId`` in the execute request's
    metadata (nbclient sends none); its output is not kept."""
    from jupyter_core.utils import run_sync

    client = kernel.client.kc
    request = client.session.msg("execute_request", {
        "code": source, "silent": False, "store_history": True, "user_expressions": {}, "allow_stdin": False,
        "stop_on_error": True}, metadata={"cellId": cell_id})
    client.shell_channel.send(request)
    while True:
        reply = run_sync(client.get_shell_msg)(timeout=60)
        if reply["parent_header"].get("msg_id") == request["header"]["msg_id"]:
            assert reply["content"]["status"] == "ok", reply["content"]
            return
