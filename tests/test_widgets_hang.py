"""Regression: an ``explore`` cell executed by nbclient must not wait for the cell timeout.

The stall: the old ``Explorer._draw`` displayed the figure inside ``with self.output``.
nbclient mimics the Output widget of a frontend: it routes each output captured there
into its copy of the widget and sends that state back to the kernel on the shell
channel, while another task awaits the cell's ``execute_reply`` on the same zmq socket.
That send can consume the socket's edge-triggered wake-up; the reply then sits unread
until the cell timeout ends the wait (observed: 120 s at NB_TIMEOUT=120, 12 s at 12, on
about one run in five; the kernel was idle, the socket had POLLIN set). Which run stalls
depends on timing, so the test checks the mechanism, which is deterministic: while the
notebook runs, nbclient's Output-widget mimic sends nothing on the shell channel, and
the figures, the printed text and a later error still reach the widget's saved state.
"""

import base64
import pathlib

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
from nbclient import output_widget  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
TIMEOUT = 120  # s per cell: a stall would take all of it; a normal run takes seconds

CELLS = [
    "%matplotlib inline\nimport numpy as np\nimport mtlib as mt",
    """\
def compute(β, seed):
    if β > 9.0:
        raise ValueError(f"no run at β = {β}")
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, 41)
    return t, rng.uniform(0.0, 6.0, 300) + np.outer(t, rng.normal(size=300))

def plot(data, fig):
    print(f"drawn {data[1].shape}")
    mt.plot_circle_trajectories(*data, ax=fig.subplots())

ex = mt.widgets.explore(compute=compute, plot=plot, figsize=(5, 2.5),
                        β=mt.widgets.beta(5.0), seed=mt.widgets.seed())""",
    'ex.controls["β"].value = 10.0',
    'assert [o["output_type"] for o in ex.output.outputs] == ["error"]\n'
    'assert ex.output.outputs[0]["evalue"] == "no run at β = 10.0" and ex.data[1].shape == (41, 300)',
    'ex.controls["β"].value = 6.0\nex.controls["seed"].value = 3',
    "print('after')",
]


def _output_widget_state(nb):
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    outputs = [s["state"] for s in state.values() if s["model_name"] == "OutputModel"]
    assert len(outputs) == 1
    return outputs[0]["outputs"]


def test_explore_sends_nothing_back_on_the_shell_channel(monkeypatch):
    monkeypatch.delenv("MTLIB_STATIC_WIDGETS", raising=False)  # the kernel inherits the environment
    sent = []
    original = output_widget.OutputWidget.send

    def record(self, *args, **kwargs):
        sent.append(args)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(output_widget.OutputWidget, "send", record)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    client = nbclient.NotebookClient(nb, timeout=TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT)}})
    client.execute()
    assert sent == [], "outputs were captured by the frontend's Output widget (the stall's cause)"
    assert not [o for c in nb.cells for o in c.outputs if o["output_type"] == "error"]
    assert [c.outputs for c in nb.cells[2:5]] == [[], [], []], "redraws go to the widget, not the cell"
    assert nb.cells[5].outputs[0]["text"] == "after\n"
    # The later error was shown in the widget (cell 3); the last drawing replaced it.
    outputs = _output_widget_state(nb)
    assert [o["output_type"] for o in outputs] == ["stream", "display_data"]
    assert outputs[0]["text"] == "drawn (41, 300)\n"
    assert base64.b64decode(outputs[1]["data"]["image/png"]).startswith(b"\x89PNG")
