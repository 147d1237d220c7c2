"""The shared progress bar: transparent to the loop, switchable off."""
from tyshare_lib.progress import progress, progress_enabled


def test_progress_yields_every_item(monkeypatch):
    monkeypatch.setenv("TYSHARE_PROGRESS", "1")
    assert progress_enabled()
    assert list(progress(range(5), desc="x")) == [0, 1, 2, 3, 4]


def test_progress_off_returns_the_iterable_itself(monkeypatch):
    monkeypatch.setenv("TYSHARE_PROGRESS", "0")
    it = range(3)
    assert not progress_enabled() and progress(it) is it
    assert progress(it, show=True) is not it
