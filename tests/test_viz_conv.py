"""tyshare_lib.viz.conv: the sliding-kernel explorer (static frames and live widget, headless) and the
chapter's other figures."""
import json

import numpy as np
import pytest
import torch

from tyshare_lib.conv import cross_correlate, load_image, preset_kernel
from tyshare_lib.viz import conv as viz
from tyshare_lib.viz.conv import _CELL, _KERNEL, _OUTPUT, _PRODUCTS, _WINDOW


def test_static_animation_has_every_position_of_every_configuration():
    fig = viz.kernel_explorer(size=16).static_figure()
    per_group = {(1, 0): 196, (1, 1): 256, (2, 0): 49, (2, 1): 64}
    assert len(fig["frames"]) == 4 * sum(per_group.values())
    menu = fig["layout"]["updatemenus"][0]
    assert len(menu["buttons"]) == 16 and menu["buttons"][0]["label"] == "vertical edge · stride 1 · padding 0"
    assert len(fig["layout"]["sliders"]) == 16 and sum(s["visible"] for s in fig["layout"]["sliders"]) == 1
    json.dumps(fig)  # plain JSON, ready for the page


def test_kernel_is_the_same_in_every_frame_of_a_group():
    """The point of the chapter: the nine weights travel once per group, never per position."""
    fig = viz.kernel_explorer(size=16).static_figure()
    group0 = [f for f in fig["frames"] if f["name"].startswith("0/")]
    assert _KERNEL in group0[0]["traces"]
    assert all(_KERNEL not in f["traces"] for f in group0[1:])
    assert all(_WINDOW in f["traces"] and _PRODUCTS in f["traces"] for f in group0)


def test_frame_output_is_cross_correlate():
    image = load_image(16)
    kernel = preset_kernel("blur")
    fig = viz.kernel_explorer(size=16).static_figure()
    blur_s2_p1 = fig["layout"]["updatemenus"][0]["buttons"]
    index = [b["label"] for b in blur_s2_p1].index("blur · stride 2 · padding 1")
    first = next(f for f in fig["frames"] if f["name"] == f"{index}/1")
    out = next(d for d, i in zip(first["data"], first["traces"]) if i == _OUTPUT)
    assert np.allclose(out["z"], cross_correlate(image, kernel, stride=2, padding=1).numpy(), atol=1e-3)


def test_live_widget_recomputes_when_a_weight_is_edited():
    ex = viz.kernel_explorer(size=16)
    _ = ex.widget
    editor = ex.controls["kernel"]
    ex.set(step=30)
    before = np.array(ex.figure_widget.data[_OUTPUT].z)
    editor.children[4].value = 3.0  # the reader types a new centre weight
    kernel = np.array(editor.value).reshape(3, 3)
    assert kernel[1, 1] == 3.0
    expected = cross_correlate(load_image(16), __import__("torch").tensor(kernel)).numpy()
    after = np.array(ex.figure_widget.data[_OUTPUT].z)
    assert not np.allclose(before, after) and np.allclose(after, expected, atol=1e-3)
    assert ex.figure_widget.data[_KERNEL].z[1][1] == 3.0
    assert ex.last_reaction_s is not None


def test_live_controls_stride_padding_preset_and_step():
    ex = viz.kernel_explorer(size=16)
    box = ex.widget
    presets = box.children[0].children[1]
    presets.value = "sharpen"
    assert ex.controls["kernel"].value == tuple(w for row in viz.PRESETS["sharpen"] for w in row)
    ex.set(stride=2)
    assert ex.controls["step"].max == 49
    ex.set(step=49)
    cell = ex.figure_widget.data[_CELL]
    assert (cell.x[0], cell.y[0]) == (5.5, 5.5)  # last output cell (6, 6)
    assert "49/49" in ex.figure_widget.layout.title.text
    with pytest.raises(ValueError, match="stride"):
        ex.set(stride=3)


def test_explorer_bad_arguments():
    with pytest.raises(ValueError, match="preset"):
        viz.kernel_explorer(preset="emboss")
    with pytest.raises(ValueError, match="padding"):
        viz.kernel_explorer(padding=2)
    with pytest.raises(ValueError, match="kernel"):
        viz.compute_slide(load_image(8), (1, 2, 3), 1, 0)


def test_parameter_explorer_and_counts():
    c = viz.compute_parameter_counts(32)
    assert c["conv"] == 10 and c["dense"] == 32 ** 4 + 32 ** 2
    ex = viz.parameter_explorer(32)
    fig = ex.static_figure()
    assert [f["name"] for f in fig["frames"]] == [str(n) for n in viz.SIZES]
    _ = ex.widget
    ex.set(size=64)
    assert ex.figure_widget.data[2].y[1] == 64 ** 4 + 64 ** 2
    with pytest.raises(ValueError, match="size"):
        viz.parameter_explorer(30)


def test_static_figures_build():
    assert len(viz.figure_filters(32).data) == 5
    assert len(viz.figure_equivariance(32).data) == 4
    with pytest.raises(ValueError, match="shift"):
        viz.figure_equivariance(32, shift=[4, 6])
    with pytest.raises(ValueError, match="size must divide 128"):
        viz.figure_filters(30)


def test_the_input_panel_keeps_the_whole_image_in_view_at_every_step():
    """Fixed input axes on the padded image's edges (autorange grew them as the window touched an edge row, and the
    image jumped): every column and row of a wide image, padded or not, at the first and the last step."""
    image = torch.rand(6, 10)
    for padding in (0, 1):
        for step in (1, 10_000):
            layout = viz.slide_patch(image, viz._flat("vertical edge"), 1, padding, step).layout
            assert layout["xaxis"]["range"] == [-0.5, 10 + 2 * padding - 0.5]
            assert layout["yaxis"]["range"] == [6 + 2 * padding - 0.5, -0.5]
