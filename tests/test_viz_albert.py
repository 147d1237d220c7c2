"""tyshare_lib.viz.albert: the counter's numbers, its live widget (headless) and the paper comparison."""
import dataclasses

import pytest

from tyshare_lib.albert import AlbertConfig, count_parameters
from tyshare_lib.viz import albert as viz


def test_compute_counts_covers_every_strategy_and_bert():
    c = AlbertConfig.preset("albert-base")
    counts = viz.compute_counts(c)
    assert counts[viz.SHARING_LABELS["all"]].total == count_parameters(c).total
    assert counts[viz.BERT_LABEL].total == count_parameters(AlbertConfig.preset("bert-base")).total


def test_counter_widget_follows_its_controls():
    ex = viz.parameter_counter()
    _ = ex.widget
    fw = ex.figure_widget
    chosen = lambda: fw.data[viz._SELECTED].x[0] * 1e6  # noqa: E731
    assert chosen() == pytest.approx(11_683_584)
    ex.set(sharing="none")
    assert chosen() == pytest.approx(89_650_176) and "nothing shared" in fw.layout.title.text
    ex.set(num_hidden_layers=24, hidden_size=1024, intermediate_size=4096, num_attention_heads=16)
    expected = count_parameters(AlbertConfig.preset("albert-large", sharing="none")).total
    assert chosen() == pytest.approx(expected)
    bert_bar = sum(fw.data[i].x[0] for i in range(len(viz.PART_NAMES))) * 1e6  # first bar is BERT
    assert bert_bar == pytest.approx(count_parameters(AlbertConfig.preset("bert-large")).total)


def test_counter_shows_an_invalid_combination_instead_of_crashing():
    ex = viz.parameter_counter()
    _ = ex.widget
    ex.set(num_attention_heads=16, hidden_size=128)  # valid: 128 = 16 · 8
    before = ex.figure_widget.data[2].x
    ex.set(num_attention_heads=12)  # 128 is not divisible by 12
    title = ex.figure_widget.layout.title.text
    assert "hidden_size (128) must be divisible by num_attention_heads (12)" in title
    assert ex.figure_widget.data[2].x == before  # the last valid bars stay; the title explains
    ex.set(num_attention_heads=8)
    assert "⚠" not in ex.figure_widget.layout.title.text


def test_counter_static_frames_walk_the_layers():
    fig = viz.parameter_counter().static_figure()
    assert len(fig["frames"]) == len(viz.STATIC_EMBEDDINGS) * len(viz.STATIC_LAYERS)
    menu = fig["layout"]["updatemenus"][0]
    assert [b["label"] for b in menu["buttons"]] == [f"E = {e}" for e in viz.STATIC_EMBEDDINGS]
    assert menu["active"] == viz.STATIC_EMBEDDINGS.index(128)  # ALBERT-base's E
    frames = [f for f in fig["frames"] if f["name"].startswith("1/")]  # the E = 128 group
    assert [f["name"] for f in frames] == [f"1/{L}" for L in viz.STATIC_LAYERS]
    first, frame12 = frames[0], frames[11]
    selected = next(d for d, i in zip(first["data"], first["traces"]) if i == viz._SELECTED)
    assert selected["x"][0] * 1e6 == pytest.approx(11_683_584)  # all shared: the same at every depth ...
    assert viz._SELECTED not in frame12["traces"]  # ... so it travels in the first frame only
    attention = next(d for d, i in zip(frame12["data"], frame12["traces"]) if i == 2)
    assert attention["x"][0] * 1e6 == pytest.approx(12 * 4 * (768 * 768 + 768))  # BERT's bar, 12 layers
    assert fig["layout"]["sliders"][1]["active"] == 11 and fig["layout"]["sliders"][1]["visible"]


def test_paper_rows_and_table():
    rows = viz.paper_rows()
    assert len(rows) == 6 + 8 + 8
    assert sum(r.matches for r in rows) == 12
    html = viz.paper_table_html(rows)
    assert html.count("<tr>") == len(rows) + 1 and "≠ 109M" in html and "✓" in html


def test_depth_cost_shared_and_unshared_do_the_same_work():
    c = AlbertConfig(vocab_size=50, embedding_size=8, hidden_size=16, num_attention_heads=2, intermediate_size=32)
    cost = viz.measure_depth_cost(c, layers=(1, 3), batch=2, tokens=5, repeats=1, device="cpu")
    assert cost.activations["all"] == cost.activations["none"] == [2 * 5 * 16, 3 * 2 * 5 * 16]  # B·T·H per layer
    assert cost.parameters["all"][0] == cost.parameters["all"][1] < cost.parameters["none"][1]
    assert len(viz.figure_depth_cost(cost).data) == 4
    with pytest.raises(ValueError, match="tokens"):
        viz.measure_depth_cost(c, tokens=10_000)
    with pytest.raises(ValueError, match="config"):
        viz.measure_depth_cost({"hidden_size": 16})
    with pytest.raises(ValueError, match=r"layers\[1\]"):
        viz.measure_depth_cost(c, layers=(1, 0))
    with pytest.raises(ValueError, match="layers"):
        viz.measure_depth_cost(c, layers=())
    with pytest.raises(ValueError, match="clock"):
        viz.measure_depth_cost(c, clock="sundial")


def test_depth_cost_times_on_one_thread_and_restores_the_setting():
    import torch

    c = AlbertConfig(vocab_size=50, embedding_size=8, hidden_size=16, num_attention_heads=2, intermediate_size=32)
    before = torch.get_num_threads()
    cost = viz.measure_depth_cost(c, layers=(1, 2), batch=1, tokens=4, repeats=2, device="cpu")
    assert cost.clock == "cpu" and torch.get_num_threads() == before
    assert all(t > 0 for s in ("all", "none") for t in cost.seconds[s])
    assert viz.figure_depth_cost(cost).layout.yaxis.title.text == "CPU milliseconds"
    wall = viz.measure_depth_cost(c, layers=(1,), batch=1, tokens=4, repeats=1, device="cpu", clock="wall")
    assert wall.clock == "wall" and viz.figure_depth_cost(wall).layout.yaxis.title.text == "milliseconds"


def test_axis_end_is_the_next_nice_step_with_room_for_the_label():
    assert [viz.axis_end(v) for v in (1, 8.3, 12.5, 83.3, 108, 250)] == [1.5, 10, 15, 100, 150, 300]
    for bad in (0, -1.0, float("nan"), float("inf"), "12"):
        with pytest.raises(ValueError, match="longest"):
            viz.axis_end(bad)


def test_counter_axis_fits_every_bar_and_stays_put_while_they_grow():
    """Along the layers slider every bar grows; the axis ends past the longest with a fifth to spare, at most one
    step (5/3) further, and moves only a few times (so the bars are seen to grow, and live moves redraw only bars)."""
    ends = []
    for layers in viz.STATIC_LAYERS:
        config = AlbertConfig.preset("albert-base").with_(num_hidden_layers=layers)
        patch = viz.counter_update(**{f.name: getattr(config, f.name) for f in dataclasses.fields(config)})
        xaxis = patch.layout["xaxis"]
        longest = max(sum(patch.traces[i]["x"][b] for i in range(len(viz.PART_NAMES))) for b in range(len(viz.BAR_ORDER)))
        assert xaxis["autorange"] is False and xaxis["range"][0] == 0
        assert 1.2 * longest <= xaxis["range"][1] <= 1.2 * longest * 5 / 3 + 1e-9
        ends.append(xaxis["range"][1])
    moves = sum(a != b for a, b in zip(ends, ends[1:]))
    assert 1 <= moves <= 8 < len(viz.STATIC_LAYERS) - 1, ends
