"""tyshare_lib.device: the default device, its override, and refusal of devices that do not exist here."""
import pytest
import torch

from tyshare_lib import default_device, resolve_device
from tyshare_lib.device import ENV_VAR, cpu_threads


def test_environment_variable_overrides(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "cpu")
    assert default_device() == torch.device("cpu")


def test_automatic_choice_without_override(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    expected = "cuda" if torch.cuda.is_available() else (
        "mps" if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available() else "cpu")
    assert default_device().type == expected


def test_none_means_default(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "cpu")
    assert resolve_device(None) == torch.device("cpu")


@pytest.mark.parametrize("bad", ["tpu", "gpu!", 3])
def test_unknown_device_is_refused(bad):
    with pytest.raises(ValueError, match="device"):
        resolve_device(bad)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_is_refused_clearly(monkeypatch):
    with pytest.raises(ValueError, match="no CUDA device"):
        resolve_device("cuda")
    monkeypatch.setenv(ENV_VAR, "cuda")
    with pytest.raises(ValueError, match=ENV_VAR):
        default_device()


def test_cpu_threads_sets_and_restores_the_thread_count():
    before = torch.get_num_threads()
    with cpu_threads(torch.device("cpu"), n=1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError), cpu_threads(torch.device("cpu"), n=1):
        raise RuntimeError("inside")
    assert torch.get_num_threads() == before  # restored after an error too
    with cpu_threads(torch.device("meta"), n=1):  # not the CPU: left alone
        assert torch.get_num_threads() == before
