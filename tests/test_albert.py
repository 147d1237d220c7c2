"""tyshare_lib.albert: the closed-form count equals the built module's, sharing is real, bad input refused."""
import math
import time

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tyshare_lib import default_device
from tyshare_lib.albert import (PRESETS, SHARING, AlbertConfig, AlbertEncoder, count_parameters, format_count,
                                module_counts, naive_counts, paper_rounding, time_forward)


def small(**changes):
    base = dict(vocab_size=100, embedding_size=16, hidden_size=32, num_hidden_layers=4, num_attention_heads=4,
                intermediate_size=64, max_position_embeddings=40, type_vocab_size=2, sharing="all")
    return AlbertConfig(**{**base, **changes})


@settings(max_examples=40, deadline=None)
@given(V=st.integers(1, 60), E=st.sampled_from([4, 8, 16, 24]), heads=st.sampled_from([1, 2, 4]),
       head_dim=st.sampled_from([2, 4, 8]), L=st.integers(1, 5), I=st.integers(1, 48), P=st.integers(1, 20),
       T=st.integers(1, 3), sharing=st.sampled_from(SHARING))
def test_formula_equals_built_module(V, E, heads, head_dim, L, I, P, T, sharing):
    c = AlbertConfig(vocab_size=V, embedding_size=E, hidden_size=heads * head_dim, num_hidden_layers=L,
                     num_attention_heads=heads, intermediate_size=I, max_position_embeddings=P,
                     type_vocab_size=T, sharing=sharing)
    model = AlbertEncoder(c, device="cpu")
    assert sum(p.numel() for p in model.parameters()) == count_parameters(c).total
    assert module_counts(model) == count_parameters(c)  # part by part


@pytest.mark.parametrize("name", ["bert-base", "albert-base", "albert-large"])
def test_formula_equals_built_module_for_presets(name):
    c = AlbertConfig.preset(name)
    model = AlbertEncoder(c, device="cpu")
    assert sum(p.numel() for p in model.parameters()) == count_parameters(c).total


# Table 1 of Lan et al. (2020): layers, hidden, embedding, heads (H/64; BERT-base 12), feed-forward (4H),
# sharing, and the exact count of each (which the paper prints as 108M, 334M, 12M, 18M, 60M, 235M).
TABLE_1 = {
    "bert-base": (12, 768, 768, 12, 3072, "none", 109_081_344),
    "bert-large": (24, 1024, 1024, 16, 4096, "none", 334_607_360),
    "albert-base": (12, 768, 128, 12, 3072, "all", 11_683_584),
    "albert-large": (24, 1024, 128, 16, 4096, "all", 17_683_968),
    "albert-xlarge": (24, 2048, 128, 32, 8192, "all", 58_724_864),
    "albert-xxlarge": (12, 4096, 128, 64, 16384, "all", 222_595_584),
}


def by_hand(V, E, H, L, I, shared, P=512, T=2):
    """The count written out as the chapter's first exercise does, independently of count_parameters."""
    layer = 4 * (H * H + H) + (H * I + I) + (I * H + H) + 2 * 2 * H  # attention, FFN, two LayerNorms
    return (V + P + T) * E + 2 * E + (E * H + H if E != H else 0) + (1 if shared else L) * layer + H * H + H


@pytest.mark.parametrize("name", TABLE_1)
def test_every_preset_is_pinned_to_table_1(name):
    L, H, E, heads, I, sharing, total = TABLE_1[name]
    c = AlbertConfig.preset(name)
    assert (c.num_hidden_layers, c.hidden_size, c.embedding_size, c.num_attention_heads, c.intermediate_size,
            c.sharing, c.vocab_size, c.max_position_embeddings, c.type_vocab_size) == (L, H, E, heads, I, sharing,
                                                                                       30000, 512, 2)
    assert count_parameters(c).total == total == by_hand(30000, E, H, L, I, sharing == "all")


def test_presets_are_exactly_table_1():
    assert set(PRESETS) == set(TABLE_1)


@pytest.mark.parametrize("sharing", SHARING)
def test_sharing_is_real(sharing):
    model = AlbertEncoder(small(sharing=sharing, num_hidden_layers=12), device="cpu")
    first, last = model.layers[0], model.layers[11]
    assert (first.attention is last.attention) == (sharing in ("attention", "all"))
    assert (first.ffn is last.ffn) == (sharing in ("ffn", "all"))
    with torch.no_grad():
        first.attention.query.weight[0, 0] = 3.5  # mutate through layer 0 ...
        first.ffn.ffn.weight[0, 0] = -2.5
    assert (last.attention.query.weight[0, 0] == 3.5) == (sharing in ("attention", "all"))  # ... read through 11
    assert (last.ffn.ffn.weight[0, 0] == -2.5) == (sharing in ("ffn", "all"))


def test_shared_gradient_is_the_sum_over_layers():
    """One shared layer used three times gets the sum of the gradients three separate copies would get."""
    torch.manual_seed(0)
    shared = AlbertEncoder(small(sharing="all", num_hidden_layers=3), device="cpu")
    unshared = AlbertEncoder(small(sharing="none", num_hidden_layers=3), device="cpu")
    unshared.load_state_dict(shared.state_dict())  # state_dict repeats the shared tensors once per layer
    ids = torch.randint(0, 100, (2, 5))
    out_shared, _ = shared(ids)
    out_unshared, _ = unshared(ids)
    assert torch.allclose(out_shared, out_unshared)
    out_shared.sum().backward()
    out_unshared.sum().backward()
    total = shared.layers[0].ffn.ffn_output.weight.grad
    per_use = [layer.ffn.ffn_output.weight.grad for layer in unshared.layers]
    assert torch.allclose(total, sum(per_use), atol=1e-5)


def test_forward_shapes_and_determinism():
    torch.manual_seed(0)
    model = AlbertEncoder(small(), device="cpu").eval()
    ids = torch.randint(0, 100, (3, 7))
    a, pa = model(ids)
    b, pb = model(ids)
    assert a.shape == (3, 7, 32) and pa.shape == (3, 32)
    assert torch.equal(a, b) and torch.equal(pa, pb)


# ----------------------------------------------------------------------------- forward against an independent computation
def _layer_norm(x, ln):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + ln.eps) * ln.weight + ln.bias


def _linear(x, lin):
    return x @ lin.weight.T + lin.bias


def reference_forward(model, ids, types, mask):
    """BERT's forward pass written out from the paper's equations with the model's weights (loops, explicit
    softmax with -inf on padded keys, erf GELU), sharing nothing with AlbertEncoder.forward but the weights."""
    c, emb = model.config, model.embeddings
    B, T = ids.shape
    x = emb.word_embeddings.weight[ids] + emb.position_embeddings.weight[:T][None] \
        + emb.token_type_embeddings.weight[types]
    x = _layer_norm(x, emb.LayerNorm)
    if model.embedding_hidden_mapping_in is not None:
        x = _linear(x, model.embedding_hidden_mapping_in)
    nh, hd = c.num_attention_heads, c.hidden_size // c.num_attention_heads
    for layer in model.layers:
        att = layer.attention
        q, k, v = (_linear(x, m) for m in (att.query, att.key, att.value))
        heads = []
        for h in range(nh):
            sl = slice(h * hd, (h + 1) * hd)
            scores = q[..., sl] @ k[..., sl].transpose(1, 2) / math.sqrt(hd)  # (B, T, T)
            scores = scores.masked_fill(~mask.bool()[:, None, :], float("-inf"))  # padded keys get no weight
            heads.append(torch.softmax(scores, dim=-1) @ v[..., sl])
        x = _layer_norm(x + _linear(torch.cat(heads, -1), att.dense), att.LayerNorm)
        ffn = layer.ffn
        h1 = _linear(x, ffn.ffn)
        x = _layer_norm(x + _linear(0.5 * h1 * (1 + torch.erf(h1 / math.sqrt(2))), ffn.ffn_output), ffn.LayerNorm)
    return x, torch.tanh(_linear(x[:, 0], model.pooler))


@pytest.mark.parametrize("sharing", ["all", "none"])
def test_forward_equals_an_independent_computation(sharing):
    """Token types, positions and the padding mask all enter as BERT's equations say."""
    torch.manual_seed(1)
    model = AlbertEncoder(small(sharing=sharing, num_hidden_layers=2, type_vocab_size=3), device="cpu").eval()
    g = torch.Generator().manual_seed(2)
    ids = torch.randint(0, 100, (3, 7), generator=g)
    types = torch.randint(0, 3, (3, 7), generator=g)
    mask = torch.ones(3, 7, dtype=torch.long)
    mask[0, 5:] = 0
    mask[2, 2:] = 0
    with torch.no_grad():
        out, pooled = model(ids, token_type_ids=types, attention_mask=mask)
        ref, ref_pooled = reference_forward(model, ids, types, mask)
    assert torch.allclose(out, ref, atol=1e-5) and torch.allclose(pooled, ref_pooled, atol=1e-5)


def test_padding_is_really_masked():
    """Changing what stands at padded positions leaves every real token's output unchanged."""
    torch.manual_seed(0)
    model = AlbertEncoder(small(), device="cpu").eval()
    ids = torch.randint(0, 100, (2, 8))
    mask = torch.ones(2, 8, dtype=torch.long)
    mask[:, 5:] = 0
    other = ids.clone()
    other[:, 5:] = (ids[:, 5:] + 17) % 100  # new tokens where the padding is
    with torch.no_grad():
        a, pa = model(ids, attention_mask=mask)
        b, pb = model(other, attention_mask=mask)
        c, _ = model(other)  # no mask: the real tokens now see the changed ones
    assert torch.allclose(a[:, :5], b[:, :5], atol=1e-6) and torch.allclose(pa, pb, atol=1e-6)
    assert not torch.allclose(a[:, :5], c[:, :5], atol=1e-3)
    assert torch.equal(model(ids, attention_mask=mask.bool())[0], a)  # a bool mask means the same


def test_token_types_and_positions_change_the_output():
    torch.manual_seed(0)
    model = AlbertEncoder(small(), device="cpu").eval()
    ids = torch.randint(0, 100, (2, 6))
    with torch.no_grad():
        base, _ = model(ids)
        assert torch.equal(model(ids, token_type_ids=torch.zeros_like(ids))[0], base)  # the default is type 0
        typed, _ = model(ids, token_type_ids=torch.ones_like(ids))
        assert (typed - base).abs().max() > 1e-2
        # Without position embeddings self-attention is permutation-equivariant; with them it is not.
        perm = torch.tensor([5, 4, 3, 2, 1, 0])
        shuffled, _ = model(ids[:, perm])
        assert (shuffled - base[:, perm]).abs().max() > 1e-2


def test_default_device_gives_the_same_output_as_the_cpu():
    """On a GPU machine (TYSHARE_DEVICE=cuda) this compares the CUDA forward pass with the CPU's."""
    if default_device().type == "cpu":
        pytest.skip("no accelerator selected (the default device is the CPU): comparing the CPU with itself "
                    "proves nothing; run with TYSHARE_DEVICE=cuda on a GPU machine")
    torch.manual_seed(0)
    cpu = AlbertEncoder(small(sharing="attention"), device="cpu").eval()
    here = AlbertEncoder(small(sharing="attention")).eval()  # default_device()
    here.load_state_dict(cpu.state_dict())
    ids = torch.randint(0, 100, (3, 9))
    with torch.no_grad():
        a, pa = cpu(ids)
        b, pb = here(ids)
    assert b.device == here.device
    assert torch.allclose(a, b.cpu(), atol=1e-4) and torch.allclose(pa, pb.cpu(), atol=1e-4)


def test_factorised_projection_only_when_e_differs_from_h():
    assert AlbertEncoder(small(embedding_size=32), device="cpu").embedding_hidden_mapping_in is None
    assert AlbertEncoder(small(embedding_size=16), device="cpu").embedding_hidden_mapping_in is not None


def test_naive_counts_double_count_shared_tensors():
    c = small(sharing="all", num_hidden_layers=6)
    n = naive_counts(AlbertEncoder(c, device="cpu"))
    assert n.parameters == count_parameters(c).total
    assert n.state_dict == n.per_layer == count_parameters(c.with_(sharing="none")).total


def test_presets_follow_table_1():
    shapes = {name: (c.num_hidden_layers, c.hidden_size, c.embedding_size, c.sharing) for name, c in PRESETS.items()}
    assert shapes["bert-large"] == (24, 1024, 1024, "none")
    assert shapes["albert-xxlarge"] == (12, 4096, 128, "all")
    assert all(c.intermediate_size == 4 * c.hidden_size and c.vocab_size == 30000 for c in PRESETS.values())


def test_formatting_helpers():
    assert format_count(11_683_584) == "11.7M" and format_count(1_500) == "1.5k" and format_count(3) == "3"
    assert paper_rounding(11_683_584) == 12 and paper_rounding(108_490_000) == 108
    assert paper_rounding(108_500_000) == 109  # 0.5 rounds up, as the docstring says


@pytest.mark.parametrize("n, text", [(0, "0"), (999, "999"), (1_000, "1.0k"), (999_949, "999.9k"),
                                     (999_950, "1.0M"), (1_000_000, "1.0M"), (999_949_999, "999.9M"),
                                     (999_950_000, "1.00B"), (1_234_567_890, "1.23B")])
def test_format_count_never_writes_1000_of_a_unit(n, text):
    assert format_count(n) == text


@pytest.mark.parametrize("bad", [-1, 2.5, "12", None, True])
def test_format_count_and_paper_rounding_refuse_what_is_not_a_count(bad):
    with pytest.raises(ValueError, match="n must"):
        format_count(bad)
    with pytest.raises(ValueError, match="n must"):
        paper_rounding(bad)


@pytest.mark.parametrize("field, value, match", [
    ("hidden_size", 770, "divisible"), ("num_hidden_layers", 0, "num_hidden_layers"),
    ("vocab_size", -5, "vocab_size"), ("sharing", "some", "sharing"), ("embedding_size", 1.5, "embedding_size")])
def test_bad_config_is_refused_naming_the_field(field, value, match):
    with pytest.raises(ValueError, match=match):
        small(**{field: value})


def test_other_bad_input():
    with pytest.raises(ValueError, match="name"):
        AlbertConfig.preset("bert-huge")
    with pytest.raises(ValueError, match="name"):
        AlbertConfig.preset(["albert-base"])
    with pytest.raises(ValueError, match="unknown AlbertConfig field"):
        small().with_(layers=3)
    with pytest.raises(ValueError, match="unknown AlbertConfig field"):
        AlbertConfig.preset("albert-base", layers=3)
    with pytest.raises(ValueError, match="num_hidden_layers"):
        AlbertConfig.preset("albert-base", num_hidden_layers=0)  # changes are validated
    assert AlbertConfig.preset("albert-base", num_hidden_layers=3).num_hidden_layers == 3
    with pytest.raises(TypeError, match="config"):
        count_parameters({"hidden_size": 3})
    model = AlbertEncoder(small(), device="cpu")
    with pytest.raises(ValueError, match="input_ids"):
        model(torch.zeros(2, 3))  # float ids
    with pytest.raises(ValueError, match="vocab_size"):
        model(torch.full((1, 3), 100))
    with pytest.raises(ValueError, match="max_position_embeddings"):
        model(torch.zeros(1, 41, dtype=torch.long))


@pytest.mark.parametrize("kwargs, match", [
    (dict(input_ids=[[1, 2, 3]]), "input_ids must be a"),
    (dict(input_ids=torch.zeros(0, 3, dtype=torch.long)), "input_ids must hold at least one"),
    (dict(input_ids=torch.zeros(2, 0, dtype=torch.long)), "input_ids must hold at least one"),
    (dict(input_ids=torch.zeros(3, dtype=torch.long)), "input_ids must be a"),
    (dict(input_ids=torch.full((2, 3), -1)), "input_ids must lie in"),
    (dict(token_type_ids=torch.full((2, 3), 2)), "token_type_ids must lie in .0, type_vocab_size=2"),
    (dict(token_type_ids=torch.full((2, 3), -1)), "token_type_ids must lie in"),
    (dict(token_type_ids=torch.zeros(2, 4, dtype=torch.long)), "token_type_ids must have the shape"),
    (dict(token_type_ids=torch.zeros(2, 3)), "token_type_ids must be a"),
    (dict(token_type_ids=[[0, 0, 0]] * 2), "token_type_ids must be a"),
    (dict(attention_mask=torch.ones(2, 4, dtype=torch.long)), "attention_mask must have the shape"),
    (dict(attention_mask=torch.ones(3, dtype=torch.long)), "attention_mask must have the shape"),
    (dict(attention_mask=[[1, 1, 1]] * 2), "attention_mask must be a"),
    (dict(attention_mask=torch.full((2, 3), 2)), "attention_mask must hold only 0"),
    (dict(attention_mask=torch.tensor([[1, 1, 0], [0, 0, 0]])), "at least one token"),
])
def test_forward_refuses_bad_input_naming_the_argument(kwargs, match):
    model = AlbertEncoder(small(), device="cpu")
    args = {"input_ids": torch.zeros(2, 3, dtype=torch.long), **kwargs}
    with pytest.raises(ValueError, match=match):
        model(**args)


@pytest.mark.parametrize("bad", [torch.nn.Linear(2, 2), None, "model"])
def test_counters_and_timer_refuse_what_is_not_an_encoder(bad):
    ids = torch.zeros(1, 3, dtype=torch.long)
    for fn in (module_counts, naive_counts, lambda m: time_forward(m, ids)):
        with pytest.raises(TypeError, match="model must be an AlbertEncoder"):
            fn(bad)


def test_the_exercise_solutions_numbers():
    """Numbers stated in the chapter's folded solutions."""
    from tyshare_lib.albert import AlbertAttention, AlbertFeedForward, AlbertLayer

    assert count_parameters(AlbertConfig.preset("bert-large")).total == 334_607_360
    # the factorisation saves parameters up to E = 748 and not from 749 on (V = 30000, H = 768)
    base = AlbertConfig.preset("albert-base", sharing="none")
    def table(E):  # the word table and the E → H map (positions and token types left out, as the exercise does)
        n = count_parameters(base.with_(embedding_size=E))
        return n.embeddings - (base.max_position_embeddings + base.type_vocab_size) * E + n.projection

    assert table(748) < table(768) < table(749)
    config = AlbertConfig.preset("albert-base")
    model = AlbertEncoder(config, device="cpu")
    groups = [AlbertLayer(AlbertAttention(config), AlbertFeedForward(config)) for _ in range(3)]
    model.layers = torch.nn.ModuleList([groups[i // 4] for i in range(12)])
    assert sum(p.numel() for p in model.parameters()) == 25_859_328


class _SleepingEncoder(AlbertEncoder):
    """An encoder whose forward pass only sleeps a known time and counts its calls: a timer must see the sleep."""

    def __init__(self, config, pause):
        super().__init__(config, device="cpu")
        self.pause, self.calls = pause, 0

    def forward(self, input_ids, token_type_ids=None, attention_mask=None):
        self.calls += 1
        time.sleep(self.pause)
        return None, None


def test_time_forward_measures_the_pass():
    """Sleeping gives a lower bound no load can undercut; 25× more sleep must time longer."""
    ids = torch.zeros(2, 5, dtype=torch.long)
    quick, slow = _SleepingEncoder(small(), 0.01), _SleepingEncoder(small(), 0.25)
    t_quick = time_forward(quick, ids, repeats=3)
    t_slow = time_forward(slow, ids, repeats=3, warmup=2)
    assert t_quick >= 0.01 and t_slow >= 0.25 and t_slow > t_quick
    assert (quick.calls, slow.calls) == (1 + 3, 2 + 3)  # the warm-up passes and the timed ones
    assert time_forward(slow, ids, repeats=1, warmup=0, clock="cpu") < 0.2  # sleeping costs no CPU time


def test_time_forward_grows_with_depth():
    """48 layers against 1 on one thread's CPU time: ideally ~30× (less the embeddings); 3× leaves room for noise."""
    torch.manual_seed(0)
    ids = torch.zeros(2, 16, dtype=torch.long)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        times = {L: time_forward(AlbertEncoder(small(num_hidden_layers=L), device="cpu").eval(), ids, repeats=5,
                                 clock="cpu") for L in (1, 48)}
    finally:
        torch.set_num_threads(threads)
    assert times[48] > 3 * times[1] > 0


def test_time_forward_bad_input():
    model = AlbertEncoder(small(), device="cpu").eval()
    ids = torch.zeros(2, 5, dtype=torch.long)
    with pytest.raises(ValueError, match="repeats"):
        time_forward(model, ids, repeats=0)
    with pytest.raises(ValueError, match="warmup"):
        time_forward(model, ids, warmup=-1)
    with pytest.raises(ValueError, match="clock"):
        time_forward(model, ids, clock="sundial")
    with pytest.raises(ValueError, match="input_ids"):
        time_forward(model, None)
    with pytest.raises(ValueError, match="input_ids"):
        time_forward(model, torch.full((1, 3), 100))
