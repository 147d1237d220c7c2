"""tyshare_lib.embeddings: the tie is one Parameter, counts equal the module, training is seeded and learns."""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn import functional as F

from tyshare_lib.embeddings import (LanguageModel, LMConfig, Vocabulary, count_lm_parameters, detokenize,
                                    load_corpus, load_shakespeare, matching_width, nearest_neighbours,
                                    paper_models, perplexity, recurrent_count, sample_batch,
                                    similarity_agreement, tie_savings, tokenize, train_lm, untied_twin)

SMALL = LMConfig(vocab_size=50, embedding_size=8, hidden_size=8)


def built_count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.fixture(scope="module")
def corpus():
    return load_corpus(vocab_size=200)


# ----------------------------------------------------------------------------- the tie
@pytest.mark.parametrize("config", [SMALL.with_(tie=True), SMALL.with_(tie=True, hidden_size=12, cell="gru")])
def test_the_tie_is_one_parameter(config):
    m = LanguageModel(config, device="cpu")
    assert m.decoder.weight is m.encoder.weight
    assert m.decoder.weight.data_ptr() == m.encoder.weight.data_ptr()
    assert sum(p is m.encoder.weight for p in m.parameters()) == 1  # yielded once
    assert (m.projection is not None) == (config.embedding_size != config.hidden_size)


def test_untied_model_has_two_matrices():
    m = LanguageModel(SMALL, device="cpu")
    assert m.decoder.weight is not m.encoder.weight and m.projection is None


def test_write_through_the_encoder_is_read_by_the_decoder():
    m = LanguageModel(SMALL.with_(tie=True), device="cpu").eval()
    ids = torch.tensor([[3, 4]])
    with torch.no_grad():
        m.encoder.weight[7] = 0.5  # row 7: word 7's input vector *and* its output vector
        logits, _ = m(ids)
        h, _ = m.rnn(m.encoder(ids))
    assert torch.equal(m.decoder.weight[7], torch.full((8,), 0.5))
    assert torch.allclose(logits[0, :, 7], h[0] @ torch.full((8,), 0.5) + m.decoder.bias[7])


@pytest.mark.parametrize("hidden", [8, 12])
def test_gradient_of_the_tie_is_the_sum_of_its_two_uses(hidden):
    torch.manual_seed(0)
    tied = LanguageModel(SMALL.with_(tie=True, hidden_size=hidden), device="cpu").eval()
    twin = untied_twin(tied).eval()
    assert twin.decoder.weight is not twin.encoder.weight
    assert torch.equal(twin.decoder.weight, tied.encoder.weight)
    x = torch.randint(0, 50, (3, 6))
    y = torch.randint(0, 50, (3, 6))
    for m in (tied, twin):
        logits, _ = m(x)
        F.cross_entropy(logits.reshape(-1, 50), y.reshape(-1)).backward()
    assert torch.allclose(tied.encoder.weight.grad, twin.encoder.weight.grad + twin.decoder.weight.grad, atol=1e-6)
    # and neither use alone is the whole gradient
    assert not torch.allclose(tied.encoder.weight.grad, twin.decoder.weight.grad, atol=1e-4)


def test_untied_twin_refuses_an_untied_model():
    with pytest.raises(ValueError, match="model must be tied"):
        untied_twin(LanguageModel(SMALL, device="cpu"))
    with pytest.raises(TypeError, match="model must be a LanguageModel"):
        untied_twin("model")


# ----------------------------------------------------------------------------- counts
@settings(max_examples=40, deadline=None)
@given(V=st.integers(2, 60), E=st.integers(1, 12), H=st.integers(1, 12), L=st.integers(1, 3),
       cell=st.sampled_from(["lstm", "gru", "rnn"]), tie=st.booleans())
def test_count_equals_the_built_module(V, E, H, L, cell, tie):
    config = LMConfig(vocab_size=V, embedding_size=E, hidden_size=H, num_layers=L, cell=cell, tie=tie)
    count = count_lm_parameters(config)
    assert count.total == built_count(LanguageModel(config, device="cpu")) == sum(count.as_dict().values())
    assert (count.projection > 0) == (tie and E != H)


def test_recurrent_count_matches_torch():
    for cell, module in [("lstm", torch.nn.LSTM), ("gru", torch.nn.GRU), ("rnn", torch.nn.RNN)]:
        assert recurrent_count(cell, 5, 7) == built_count(module(5, 7))


def test_tie_saves_the_decoder_weight():
    c = LMConfig(vocab_size=1000, embedding_size=32, hidden_size=32)
    assert count_lm_parameters(c).total - count_lm_parameters(c.with_(tie=True)).total == 1000 * 32
    assert tie_savings(c) == pytest.approx(1000 * 32 / count_lm_parameters(c).total)


def test_paper_models_round_to_press_and_wolf():
    for m in paper_models():
        if m.paper_untied is None:
            continue
        digits = 2 if m.paper_untied < 10 else 0
        assert round(count_lm_parameters(m.config).total / 1e6, digits) == m.paper_untied
        assert round(count_lm_parameters(m.config.with_(tie=True)).total / 1e6, digits) == m.paper_tied


def test_matching_width_is_the_closest_tied_width():
    base = LMConfig(vocab_size=2000, embedding_size=64, hidden_size=64)
    target = count_lm_parameters(base).total
    w = matching_width(base, target)
    count = lambda w: count_lm_parameters(base.with_(tie=True, embedding_size=w, hidden_size=w)).total  # noqa: E731
    assert abs(count(w) - target) <= min(abs(count(w - 1) - target), abs(count(w + 1) - target))
    assert w > 64


# ----------------------------------------------------------------------------- the data
def test_corpus_is_shipped_and_split_90_10(corpus):
    text = load_shakespeare()
    assert len(text) == 1_115_394 and text.startswith("First Citizen:")
    n = len(corpus.train) + len(corpus.valid)
    assert n == corpus.n_tokens and abs(len(corpus.train) / n - 0.9) < 1e-4
    assert len(corpus.vocab) == 200 and corpus.vocab.words[0] == "<unk>"
    assert int(corpus.train.max()) < 200


def test_tokenizer_round_trip():
    sentence = "to be, or not to be: that is the question."
    assert tokenize("To be, or NOT to be: that is the question.") == \
        ["to", "be", ",", "or", "not", "to", "be", ":", "that", "is", "the", "question", "."]
    assert detokenize(tokenize(sentence)) == sentence
    vocab = Vocabulary.build(tokenize(sentence), 100)
    assert vocab.decode(vocab.encode(sentence)) == sentence
    assert vocab.decode(vocab.encode("to be, or not to sleep.")) == "to be, or not to <unk>."


def test_vocabulary_keeps_the_most_frequent():
    v = Vocabulary.build(["a", "b", "a", "c", "a", "b"], 3)
    assert v.words == ["<unk>", "a", "b"] and v.counts == [1, 3, 2]
    assert v.encode(["c", "a"]) == [0, 1]


def test_batches_are_next_tokens():
    tokens = torch.arange(100)
    x, y = sample_batch(tokens, 4, 10, torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (4, 10) and torch.equal(y, x + 1)


# ----------------------------------------------------------------------------- training
def test_training_lowers_the_loss_and_is_seeded(corpus):
    config = LMConfig(vocab_size=200, embedding_size=16, hidden_size=16, tie=True)
    kw = dict(steps=30, batch_size=8, seq_len=12, lr=1e-2, eval_every=15, device="cpu")
    a = train_lm(config, corpus.train, corpus.valid[:2000], **kw)
    b = train_lm(config, corpus.train, corpus.valid[:2000], **kw)
    assert a.train_loss == b.train_loss and a.valid_perplexity == b.valid_perplexity
    assert sum(a.train_loss[-5:]) < sum(a.train_loss[:5])
    assert a.eval_steps == [15, 30] and a.valid_perplexity[-1] < 200  # better than uniform guessing
    assert a.parameters == count_lm_parameters(config).total


def test_training_runs_on_one_cpu_thread_and_restores_the_setting(corpus, monkeypatch):
    seen = []
    real_step = torch.optim.Adam.step
    monkeypatch.setattr(torch.optim.Adam, "step", lambda self, *a, **k: (seen.append(torch.get_num_threads()),
                                                                          real_step(self, *a, **k))[1])
    before = torch.get_num_threads()
    train_lm(LMConfig(vocab_size=200, embedding_size=8, hidden_size=8), corpus.train, steps=3, batch_size=4,
             seq_len=8, device="cpu")
    assert seen == [1, 1, 1] and torch.get_num_threads() == before


def test_perplexity_of_a_uniform_model_is_the_vocabulary_size():
    m = LanguageModel(SMALL, device="cpu")
    with torch.no_grad():
        m.decoder.weight.zero_()
    assert perplexity(m, torch.randint(0, 50, (101,)), seq_len=7) == pytest.approx(50, rel=1e-5)


def test_perplexity_reads_every_token_once():
    """Window length must not matter for a model that ignores context (zero recurrent weights)."""
    torch.manual_seed(0)
    m = LanguageModel(SMALL, device="cpu")
    with torch.no_grad():
        for p in m.rnn.parameters():
            p.zero_()
    tokens = torch.randint(0, 50, (97,))
    assert perplexity(m, tokens, seq_len=5) == pytest.approx(perplexity(m, tokens, seq_len=64), rel=1e-6)


# ----------------------------------------------------------------------------- neighbours
def test_nearest_neighbours_and_agreement():
    vocab = Vocabulary(["<unk>", "a", "b", "c", "d"])
    e = torch.tensor([[0.0, 1], [1, 0], [0.9, 0.1], [-1, 0], [0, 1]])
    assert [w for w, _ in nearest_neighbours(e, vocab, "a", 2)] == ["b", "d"]
    assert nearest_neighbours(e, vocab, "a", 1)[0][1] == pytest.approx(0.9 / math.hypot(0.9, 0.1))
    ids = [1, 2, 3, 4]
    assert similarity_agreement(e, e, ids) == pytest.approx(1.0)
    assert similarity_agreement(e, 3 * e @ torch.tensor([[0.0, 1], [-1, 0]]), ids) == pytest.approx(1.0)  # rotation
    shuffled = e[[0, 3, 1, 4, 2]]  # the same vectors given to other words
    assert similarity_agreement(e, shuffled, ids) < 0.5
    with pytest.raises(ValueError, match="ids"):
        similarity_agreement(e, e, [1, 2])


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("field,value,error", [
    ("vocab_size", 1, ValueError), ("embedding_size", 0, ValueError), ("hidden_size", 2.5, TypeError),
    ("num_layers", 0, ValueError), ("cell", "transformer", ValueError), ("tie", 1, TypeError),
    ("dropout", 1.0, ValueError), ("dropout", -0.1, ValueError)])
def test_bad_configs_name_the_field(field, value, error):
    with pytest.raises(error, match=field):
        LMConfig(**{field: value})


def test_bad_arguments_name_the_argument(corpus):
    m = LanguageModel(SMALL, device="cpu")
    with pytest.raises(TypeError, match="config"):
        LanguageModel("big")
    with pytest.raises(TypeError, match="config"):
        count_lm_parameters({"vocab_size": 3})
    with pytest.raises(ValueError, match="vocab_size"):
        load_corpus(vocab_size=1)
    with pytest.raises(ValueError, match="valid_fraction"):
        load_corpus(valid_fraction=1.5)
    with pytest.raises(ValueError, match="train_tokens"):
        train_lm(SMALL, corpus.train, steps=1)  # ids up to 199 in a 50-word model
    with pytest.raises(TypeError, match="train_tokens"):
        train_lm(SMALL, [1, 2, 3], steps=1)
    with pytest.raises(ValueError, match="steps"):
        train_lm(SMALL, torch.zeros(100, dtype=torch.long), steps=-1)
    with pytest.raises(ValueError, match="seq_len"):
        perplexity(m, torch.zeros(10, dtype=torch.long), seq_len=0)
    with pytest.raises(TypeError, match="text"):
        tokenize(b"bytes")
    with pytest.raises(ValueError, match="ids"):
        Vocabulary(["<unk>", "a"]).decode([5])
    with pytest.raises(ValueError, match="not in the vocabulary"):
        nearest_neighbours(torch.zeros(2, 3), Vocabulary(["<unk>", "a"]), "zebra")
    with pytest.raises(ValueError, match="target"):
        matching_width(SMALL, 0)
    with pytest.raises(ValueError, match="device"):
        LanguageModel(SMALL, device="tpu")


def test_the_exercise_solutions_numbers():
    """Numbers stated in the chapter's folded solutions."""
    c = LMConfig(vocab_size=2000, embedding_size=32, hidden_size=96, tie=True)
    assert count_lm_parameters(c).projection == 3_104
    assert count_lm_parameters(c.with_(tie=False)).total - count_lm_parameters(c).total == 188_896
    large = paper_models()[2].config
    V = next(v for v in range(10_000, 1_000_000, 1_000) if tie_savings(large.with_(vocab_size=v)) >= 0.4)
    assert V == 49_000
    H, L = 1500, 2
    assert tie_savings(large) == pytest.approx(10_000 * H / (2 * 10_000 * H + 10_000 + 8 * L * H * H + 8 * L * H))
