"""The notification record on a local folder: a message's `sending` marks appended to it
(one flush to disk) and its `sent` marks (none), read back with the document, and a line
cut short by a crash."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from portalgen.errors import StorageError
from portalgen.mail.state import FOLD_AFTER, NotifyState, StateConflict, StateStore, state_key
from portalgen.storage import LocalStorage, Storage

KEY = "k" * 22
CONTACT = "compras@ferreteria-pena.example"


def sending(state: NotifyState, *items: str) -> list[str]:
    state.mark(CONTACT, items, "sending", "2026-06-15T22:00:00+00:00", "<id@levante.example>")
    return list(items)


def test_marks_are_appended_and_read_back_with_the_document(tmp_path: Path) -> None:
    store = StateStore(LocalStorage(tmp_path))
    state = NotifyState("C00001", name="Ferretería Peña")
    version = store.save(KEY, state, None)
    document = (tmp_path / state_key(KEY)).read_bytes()
    version = store.append(KEY, state, version, CONTACT, sending(state, "invoice:F1"))
    version = store.append(KEY, state, version, CONTACT, sending(state, "invoice:F2"))
    raw = (tmp_path / state_key(KEY)).read_bytes()
    assert raw.startswith(document) and raw.count(b"\n", len(document)) == 2  # two lines
    loaded, found = store.load(KEY, "C00001")
    assert (loaded, found) == (state, version)
    assert loaded.known(CONTACT)["invoice:F2"].message_id == "<id@levante.example>"
    store.save(KEY, loaded, found)  # a whole write folds the lines into the document
    assert json.loads((tmp_path / state_key(KEY)).read_bytes()) == json.loads(state.to_json())


def test_sent_marks_are_appended_without_a_flush_and_folded_in_after_many_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A message's `sent` marks wait for no disk (losing them leaves `sending`: what a
    crash in between leaves anyway); past FOLD_AFTER lines they are left to a whole write."""
    import os

    flushes: list[int] = []
    real = os.fdatasync

    def counted(fd: int) -> None:  # the real flush, counted
        flushes.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fdatasync", counted)
    store = StateStore(LocalStorage(tmp_path))
    state = NotifyState("C00001")
    version = store.save(KEY, state, None)
    path = tmp_path / state_key(KEY)
    for number in range(FOLD_AFTER // 2):
        item = f"invoice:F{number}"
        version = store.append(KEY, state, version, CONTACT, sending(state, item))
        state.mark(CONTACT, [item], "sent", "2026-06-15T22:00:01+00:00", "<id@levante.example>")
        confirmed = store.confirm(KEY, state, version, CONTACT, [item])
        assert confirmed is not None
        version = confirmed
    assert len(flushes) == FOLD_AFTER // 2  # one a message: its `sending` marks
    assert path.read_bytes().count(b"\n") == 1 + FOLD_AFTER
    assert store.load(KEY, "C00001") == (state, version)
    state.mark(CONTACT, ["invoice:F0"], "sent", "2026-06-15T22:00:02+00:00")
    assert store.confirm(KEY, state, version, CONTACT, ["invoice:F0"]) is None  # left whole
    store.save(KEY, state, version)
    assert json.loads(path.read_bytes()) == json.loads(state.to_json())  # one document again


def test_an_append_onto_a_record_another_run_changed_is_refused(tmp_path: Path) -> None:
    store = StateStore(LocalStorage(tmp_path))
    state = NotifyState("C00001")
    version = store.save(KEY, state, None)
    other = NotifyState("C00001", name="another run")
    store.save(KEY, other, version)
    with pytest.raises(StateConflict, match="another run is sending"):
        store.append(KEY, state, version, CONTACT, sending(state, "invoice:F1"))
    assert store.load(KEY, "C00001")[0] == other


def test_a_line_cut_short_by_a_crash_is_not_read_and_the_next_write_is_whole(
    tmp_path: Path,
) -> None:
    """The server gets the end of a message only once its line is on disk: a line without
    its end belongs to a message that never went."""
    storage = LocalStorage(tmp_path)
    state = NotifyState("C00001")
    StateStore(storage).save(KEY, state, None)
    cut = NotifyState("C00001")
    line = cut.marks_line(CONTACT, sending(cut, "invoice:F1"))
    path = tmp_path / state_key(KEY)
    path.write_bytes(path.read_bytes() + line[: len(line) // 2])  # a power cut mid-append
    store = StateStore(storage)
    loaded, version = store.load(KEY, "C00001")
    assert loaded.known(CONTACT) == {}
    store.append(KEY, loaded, version, CONTACT, sending(loaded, "invoice:F2"))
    assert json.loads(path.read_bytes())["contacts"][CONTACT].keys() == {"invoice:F2"}


def test_a_damaged_line_is_a_clear_error(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    StateStore(storage).save(KEY, NotifyState("C00001"), None)
    path = tmp_path / state_key(KEY)
    path.write_bytes(path.read_bytes() + b'{"contact": "x", "marks": 7}\n')
    with pytest.raises(StorageError, match=f"{state_key(KEY)}: not a valid notification record"):
        StateStore(storage).load(KEY, "C00001")


def test_where_storage_cannot_append_the_whole_record_is_written(storage: Storage) -> None:
    store = StateStore(storage)
    state = NotifyState("C00001")
    version = store.save(KEY, state, None)
    version = store.append(KEY, state, version, CONTACT, sending(state, "invoice:F1"))
    raw = storage.get(state_key(KEY))
    assert raw is not None
    if isinstance(storage, LocalStorage):
        assert raw.count(b"\n{") == 1  # the document, then one appended line
    else:  # S3: one document, replaced; `sent` marks wait for the next whole write
        assert json.loads(raw) == json.loads(state.to_json())
        assert store.confirm(KEY, state, version, CONTACT, ["invoice:F1"]) is None
    assert store.load(KEY, "C00001") == (state, version)


@pytest.mark.parametrize(
    "name", ['Ferretería "La Peña"\\Sur', "line\nbreak\x01\u2028", "", "😀 </script>"]
)
def test_any_name_or_address_comes_back_from_the_record(name: str) -> None:
    """The record holds any name or address a customer can have, and reads back the same."""
    state = NotifyState("C00001", name=name, account_manager=name)
    state.mark(CONTACT, ["invoice:F1", f"quote:{name}"], "sending", "2026-06-15T22:00:00+00:00")
    state.mark(CONTACT, ["invoice:F2"], "sent", "2026-06-15T22:00:01+00:00", "<i@x.example>")
    state.contacts[name or "empty@x.example"] = {}
    assert state.to_json().endswith(b"\n") and state.to_json().count(b"\n") == 1
    assert NotifyState.from_json(state.to_json(), "record") == state
