"""The house style: loaded from the package, and retina inline PNGs inside IPython."""

import base64
import struct

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

import mtlib as mt  # noqa: E402


def _png_size(data):
    data = base64.b64decode(data) if isinstance(data, str) else data
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.fixture
def shell():
    from IPython.core.interactiveshell import InteractiveShell

    sh = InteractiveShell.instance()
    yield sh
    InteractiveShell.clear_instance()


def test_style_loads_outside_ipython():
    mt.use_house_style()
    assert plt.rcParams["figure.dpi"] == 110
    assert plt.rcParams["font.size"] == 10.5
    # tests/test_html_layout.py derives its smallest figure scale from these two
    assert plt.rcParams["legend.fontsize"] == 10.5


@pytest.mark.parametrize("retina, factor", [(True, 2), (False, 1)])
def test_inline_png_is_retina_inside_ipython(shell, retina, factor):
    mt.use_house_style(retina=retina)
    fig = plt.figure(figsize=(4.0, 2.0))
    fig.add_subplot().plot([0, 1], [0, 1])
    data, metadata = shell.display_formatter.format(fig)
    plt.close(fig)
    width, _ = _png_size(data["image/png"])
    # bbox_inches="tight" trims a few pixels; the displayed size is the 110-dpi one
    assert 0.8 * 4.0 * 110 * factor < width <= 4.0 * 110 * factor + 2
    if retina:
        # the display width only: a narrow column then keeps the aspect ratio
        assert metadata["image/png"] == {"width": width // 2}
    else:
        assert "width" not in metadata.get("image/png", {})


def test_retina_must_be_a_bool():
    with pytest.raises(TypeError, match="retina"):
        mt.use_house_style(retina="yes")
