"""The output folder's state: hashes only, a lock, and a journal that survives a crash."""

from __future__ import annotations

import pytest

from photoguard import Options
from photoguard.batch.state import STATE_FOLDER, Entry, OutputState, options_fingerprint
from photoguard.errors import UsageError


def test_entries_survive_a_reopen_and_hold_no_names(tmp_path):
    dst = tmp_path / "Emma birthday 2024-06-12.jpg"
    with OutputState(tmp_path) as state:
        state.record(dst, Entry("a" * 64, "b" * 32, "c" * 64))
    text = (tmp_path / STATE_FOLDER / "state.jsonl").read_text()
    assert "Emma" not in text and "2024" not in text and str(tmp_path) not in text
    with OutputState(tmp_path) as state:
        assert state.previous(dst) == Entry("a" * 64, "b" * 32, "c" * 64)
        assert state.previous(tmp_path / "other.jpg") is None


def test_a_second_run_on_the_same_folder_is_refused(tmp_path):
    with OutputState(tmp_path):
        with pytest.raises(UsageError, match="another photoguard run"):
            OutputState(tmp_path)
    OutputState(tmp_path).close()  # free again once the first has finished


def test_a_line_cut_short_by_a_crash_is_ignored(tmp_path):
    with OutputState(tmp_path) as state:
        state.record(tmp_path / "a.jpg", Entry("1", "2", "3"))
    with open(tmp_path / STATE_FOLDER / "state.jsonl", "a") as journal:
        journal.write('{"copy": "abc", "sour')
    with OutputState(tmp_path) as state:
        assert state.previous(tmp_path / "a.jpg") == Entry("1", "2", "3")
        assert len(state.entries) == 1


def test_fingerprint_follows_options_that_change_the_copy():
    base = options_fingerprint(Options())
    assert options_fingerprint(Options(overwrite=True)) == base
    assert options_fingerprint(Options(mode="pixelate")) != base
    assert options_fingerprint(Options(faces=False)) != base
