"""tyshare_lib.viz.embeddings: the vocabulary explorer's numbers, its static frames and its live widget (headless)."""
import numpy as np
import pytest

from tyshare_lib.embeddings import LMConfig, TrainResult, LanguageModel, count_lm_parameters, paper_models
from tyshare_lib.viz import embeddings as viz


def test_compute_savings_is_the_decoder_share():
    s = viz.compute_savings(10_000)
    for m, u, t in zip(paper_models(), s.untied, s.tied):
        H = m.config.hidden_size
        assert u == count_lm_parameters(m.config).total and u - t == 10_000 * H
    assert s.fraction == sorted(s.fraction, reverse=True)  # the wider the LSTM, the smaller the share
    # a huge vocabulary: almost all parameters are the two V × H matrices, so the tie saves almost half
    assert all(0.45 < f < 0.5 for f in viz.compute_savings(10_000_000).fraction)


def test_savings_curves_grow_with_the_vocabulary():
    curves = viz.compute_savings_curves([1_000, 10_000, 100_000])
    assert curves.shape == (3, 3) and np.all(np.diff(curves, axis=1) > 0)


def test_static_frames_hold_the_counts():
    ex = viz.vocab_explorer()
    fig = ex.static_figure()
    assert len(fig["frames"]) == len(viz.STATIC_VOCABS)
    for frame, V in zip(fig["frames"], viz.STATIC_VOCABS):
        s = viz.compute_savings(V)
        assert " / ".join(f"{100 * f:.0f}%" for f in s.fraction) in frame["layout"]["title"]["text"]
        markers = [d for d, i in zip(frame["data"], frame["traces"]) if i == viz._MARKERS]
        assert markers[0]["y"][0] == pytest.approx(100 * s.fraction[0])


def test_live_widget_follows_the_slider():
    ex = viz.vocab_explorer()
    _ = ex.widget
    shown = []
    for V in (1_000, 10_000, 250_000):
        ex.set(vocab_size=V)
        fw = ex.figure_widget
        s = viz.compute_savings(V)
        assert fw.data[viz._MARKERS].x[0] == V
        assert fw.data[viz._MARKERS + 3].y[2] == pytest.approx(s.untied[2] / 1e6)
        assert fw.data[viz._MARKERS + 4].y[0] == pytest.approx(s.tied[0] / 1e6)
        shown.append(fw.data[viz._MARKERS + 2].y[0])
    assert shown[0] < shown[1] < shown[2] < 50
    assert ex.figure_widget.layout.title.text.startswith("V = 250,000")


def test_explorer_refuses_bad_values():
    with pytest.raises(ValueError, match="vocab_size"):
        viz.vocab_explorer(vocab_size=1234)
    with pytest.raises(TypeError, match="vocab_size"):
        viz.compute_savings("big")
    with pytest.raises(TypeError, match="models"):
        viz.compute_savings(1000, models=[1, 2])
    ex = viz.vocab_explorer()
    with pytest.raises(ValueError, match="vocab_size"):
        ex.set(vocab_size=12_345)


def test_paper_table_shows_both_numbers_and_what_is_missing():
    table = viz.paper_table_html()
    assert "66M" in table and "66,034,000" in table and "51,034,000" in table and "not reported" in table


def _result(label_ppl):
    m = LanguageModel(LMConfig(vocab_size=5, embedding_size=2, hidden_size=2), device="cpu")
    return TrainResult(m, 10, [1.0, 0.9, 0.8], [1, 3], label_ppl)


def test_perplexity_curves_plot_what_was_measured():
    fig = viz.figure_perplexity_curves({"a": _result([5.0, 4.0]), "b": _result([6.0, 3.0])})
    assert list(fig.data[1].y) == [5.0, 4.0] and list(fig.data[3].x) == [1, 3]
    assert np.allclose(fig.data[0].y, np.exp([1.0, 0.95, 0.9]))
    with pytest.raises(TypeError, match="results"):
        viz.figure_perplexity_curves([1])
    with pytest.raises(ValueError, match="no validation"):
        viz.figure_perplexity_curves({"a": _result([])})


def test_smooth_is_a_running_mean():
    assert np.allclose(viz.smooth([1, 2, 3, 4], window=2), [1, 1.5, 2.5, 3.5])
    with pytest.raises(ValueError, match="window"):
        viz.smooth([1], window=0)


def test_neighbours_table_and_agreement_figure():
    table = viz.neighbours_table_html(["king"], {"input": {"king": [("queen", 0.9)]}})
    assert "queen" in table and "0.90" in table
    with pytest.raises(ValueError, match="king"):
        viz.neighbours_table_html(["king"], {"input": {}})
    fig = viz.figure_agreement({"x": 0.5, "y": 0.25})
    assert list(fig.data[0].x) == [0.5, 0.25]
    with pytest.raises(TypeError, match="agreement"):
        viz.figure_agreement({})


def test_import_skips_only_jsonschemas_iri_grammars():
    """A fresh interpreter: importing the chapter's figures imports jsonschema without compiling
    rfc3987_syntax's grammars, and leaves rfc3987_syntax importable; the other format checkers stay."""
    import subprocess
    import sys

    code = ("import sys; from tyshare_lib.viz import embeddings\n"
            "assert 'jsonschema' in sys.modules and 'rfc3987_syntax' not in sys.modules\n"
            "import jsonschema; checkers = jsonschema.FormatChecker().checkers\n"
            "assert 'email' in checkers and 'date' in checkers\n"
            "import importlib.util\n"
            "if importlib.util.find_spec('rfc3987_syntax'): import rfc3987_syntax\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
