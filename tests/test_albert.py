"""tyshare_lib.albert: the closed-form count equals the built module's, sharing is real, bad input refused."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

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


def test_known_counts():
    """Totals checked by hand from the formula in the chapter's first exercise."""
    assert count_parameters(AlbertConfig.preset("albert-base")).total == 11_683_584
    assert count_parameters(AlbertConfig.preset("bert-base")).total == 109_081_344
    assert count_parameters(AlbertConfig.preset("albert-xxlarge")).total == 222_595_584


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
    mask = torch.ones(3, 7, dtype=torch.long)
    mask[:, -2:] = 0
    c, _ = model(ids, attention_mask=mask)
    assert not torch.allclose(a, c)  # padding is ignored by attention


def test_default_device_gives_the_same_output_as_the_cpu():
    """On a GPU machine (TYSHARE_DEVICE=cuda) this compares the CUDA forward pass with the CPU's."""
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


@pytest.mark.parametrize("field, value, match", [
    ("hidden_size", 770, "divisible"), ("num_hidden_layers", 0, "num_hidden_layers"),
    ("vocab_size", -5, "vocab_size"), ("sharing", "some", "sharing"), ("embedding_size", 1.5, "embedding_size")])
def test_bad_config_is_refused_naming_the_field(field, value, match):
    with pytest.raises(ValueError, match=match):
        small(**{field: value})


def test_other_bad_input():
    with pytest.raises(ValueError, match="name"):
        AlbertConfig.preset("bert-huge")
    with pytest.raises(ValueError, match="unknown AlbertConfig field"):
        small().with_(layers=3)
    with pytest.raises(TypeError, match="config"):
        count_parameters({"hidden_size": 3})
    model = AlbertEncoder(small(), device="cpu")
    with pytest.raises(ValueError, match="input_ids"):
        model(torch.zeros(2, 3))  # float ids
    with pytest.raises(ValueError, match="vocab_size"):
        model(torch.full((1, 3), 100))
    with pytest.raises(ValueError, match="max_position_embeddings"):
        model(torch.zeros(1, 41, dtype=torch.long))


def test_the_exercise_solutions_numbers():
    """Numbers stated in the chapter's folded solutions."""
    from tyshare_lib.albert import AlbertAttention, AlbertFeedForward, AlbertLayer

    assert count_parameters(AlbertConfig.preset("bert-large")).total == 334_607_360
    V, H = 30000, 768
    assert round((V * H - H) / (V + H)) == 749  # where E·V + E·H + H stops undercutting V·H
    config = AlbertConfig.preset("albert-base")
    model = AlbertEncoder(config, device="cpu")
    groups = [AlbertLayer(AlbertAttention(config), AlbertFeedForward(config)) for _ in range(3)]
    model.layers = torch.nn.ModuleList([groups[i // 4] for i in range(12)])
    assert sum(p.numel() for p in model.parameters()) == 25_859_328


def test_time_forward_is_a_positive_median():
    model = AlbertEncoder(small(), device="cpu").eval()
    seconds = time_forward(model, torch.zeros(2, 5, dtype=torch.long), repeats=3)
    assert 0 < seconds < 5
    with pytest.raises(ValueError, match="repeats"):
        time_forward(model, torch.zeros(2, 5, dtype=torch.long), repeats=0)
