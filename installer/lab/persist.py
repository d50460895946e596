"""The lab's state on disk: a snapshot (lab.json) and an append-only journal of changes since.

Rewriting the whole state after every operation made a 1,000-host dry-run spend most of its time
serialising hosts and units that had not changed. Instead each save appends one line to
`lab.journal` holding the new value of every entity the operation touched (the top-level fields,
a host, a model's own fields, a machine, an application's own fields, a unit), and the snapshot
is rewritten only when the journal has grown past the snapshot's size, so the cost of a save is
that of the entities it changed and the total stays linear.

Crash safety, as with the whole-file rewrite before: one save is one line written with one
`write()`, so a kill -9 leaves either all of an operation's changes or none. A last line without
its newline (or that does not parse) is a torn write and is ignored. The journal's first line
names the snapshot it applies to (the SHA-256 of lab.json): compaction writes the new snapshot
first (temporary file + rename) and then a fresh journal, so a kill between the two leaves a
journal whose base no longer matches, which `load` ignores (the snapshot already holds it all).

Why not SQLite: the state is a few kinds of small entities written by one process; the journal
keeps lab.json a readable snapshot of the same model as before (and its validation messages),
costs one `write()` per operation, and leaves no -wal/-shm side files whose permissions would
follow the umask in a state dir whose files must all be 0600.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import weakref
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from installer.exits import UserError
from installer.lab.state import STATE_FILE, LabState, write_atomic

JOURNAL_FILE = "lab.journal"
# Compact once the journal is larger than this and than COMPACT_FACTOR times the snapshot:
# the snapshot's size is paid once per as many bytes of journal, so the total stays linear.
COMPACT_MIN_BYTES = 4 << 20
COMPACT_FACTOR = 2
_NESTED_STATE = {"hosts", "models"}
_NESTED_MODEL = {"apps", "machines"}

Key = tuple[str, ...]


@dataclass
class _Marks:
    """Entities touched, in the order they were touched (dicts as ordered sets: replaying new
    entities in this order keeps the state's dict order)."""

    hosts: dict[str, None] = field(default_factory=dict)
    models: dict[str, None] = field(default_factory=dict)
    machines: dict[tuple[str, str], None] = field(default_factory=dict)
    apps: dict[tuple[str, str], None] = field(default_factory=dict)
    units: dict[tuple[str, str, str], None] = field(default_factory=dict)

    def merge(self, other: _Marks) -> None:
        self.hosts.update(other.hosts)
        self.models.update(other.models)
        self.machines.update(other.machines)
        self.apps.update(other.apps)
        self.units.update(other.units)


class LabStore:
    """Loads the lab's state from its state dir and persists the entities marked as touched."""

    def __init__(self, state_dir: Path) -> None:
        self.snapshot = state_dir / STATE_FILE
        self.journal = state_dir / JOURNAL_FILE
        self._fd: int | None = None
        self._journal_id: tuple[int, int] = (0, 0)  # (device, inode) of the open journal
        self._journal_bytes = 0
        self._snapshot_bytes = 0
        # The last value written of each entity (JSON text; None: absent): unchanged ones are
        # not written again.
        self._written: dict[Key, str | None] = {}
        # Entities touched since the last save, per asyncio task: an operation looks a host up,
        # awaits its simulated time (while others save), then changes it and saves; its marks
        # must survive the other operations' saves until its own. Marks made outside any task
        # (synchronous callers) go with the next save.
        self._task_marks: weakref.WeakKeyDictionary[asyncio.Task[Any], _Marks] = (
            weakref.WeakKeyDictionary()
        )
        self._loose = _Marks()
        self.records_written = 0  # journal lines appended by this process (for tests)

    # -- marking ------------------------------------------------------------------------------

    def _marks(self) -> _Marks:
        try:
            task = asyncio.current_task()
        except RuntimeError:  # no running event loop
            task = None
        if task is None:
            return self._loose
        marks = self._task_marks.get(task)
        if marks is None:
            marks = self._task_marks[task] = _Marks()
        return marks

    def mark_host(self, name: str) -> None:
        """`name`'s host (its snaps, OSDs, config...) may have changed."""
        self._marks().hosts[name] = None

    def mark_model(self, name: str) -> None:
        """The model's own fields (relations, offers, consumed, config...) may have changed."""
        self._marks().models[name] = None

    def mark_machine(self, model: str, machine: str) -> None:
        """A machine of `model` was added or changed."""
        self._marks().machines[(model, machine)] = None

    def mark_app(self, model: str, app: str) -> None:
        """The application's own fields (channel, config, next unit...) may have changed."""
        self._marks().apps[(model, app)] = None

    def mark_unit(self, model: str, app: str, unit: str) -> None:
        """A unit was added or changed."""
        self._marks().units[(model, app, unit)] = None

    def _take_marks(self) -> _Marks:
        """The marks of the calling task (and any made outside tasks), cleared."""
        marks = self._marks()
        if marks is self._loose:
            self._loose = _Marks()
            return marks
        marks.merge(self._loose)
        self._loose = _Marks()
        task = asyncio.current_task()
        assert task is not None
        self._task_marks.pop(task, None)
        return marks

    # -- loading ------------------------------------------------------------------------------

    def load(self) -> LabState:
        """The state: the snapshot with the journal's complete records applied; compacted to a
        fresh snapshot and an empty journal when there was anything to apply."""
        text = self._read(self.snapshot)
        records, tidy = self._records(text)
        if not records:
            state = _validate(self.snapshot, text)
        else:
            doc: dict[str, Any] = _parse(self.snapshot, text) if text else {}
            for i, record in enumerate(records, start=2):
                _apply(doc, record, self.journal, i)
            try:
                state = LabState.model_validate(doc)
            except ValidationError as e:
                raise _invalid(self.journal, e) from None
        if text is None or records or not tidy:
            self.compact(state)
        else:
            self._snapshot_bytes = len(text)
            self._open_journal()
        return state

    @staticmethod
    def _read(path: Path) -> str | None:
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as e:
            why = e.strerror if isinstance(e, OSError) else "not UTF-8 text"
            raise UserError(
                f"The lab state {path} cannot be read ({why}); "
                "check its permissions or remove it to start a fresh lab."
            ) from None

    def _records(self, snapshot: str | None) -> tuple[list[list[Any]], bool]:
        """The journal's records that apply to `snapshot`, and whether the journal is tidy (a
        header for this snapshot, every line whole) so it can be appended to as it is."""
        try:
            raw = self.journal.read_bytes()
        except FileNotFoundError:
            return [], False
        except OSError as e:
            raise UserError(
                f"The lab journal {self.journal} cannot be read ({e.strerror}); "
                "check its permissions or remove it to start a fresh lab."
            ) from None
        # Split as bytes: a cut last line may end inside a UTF-8 sequence.
        lines = raw.split(b"\n")
        torn = lines.pop()  # b"" after a final newline; else a line cut by a kill
        try:
            header = json.loads(lines[0]) if lines else None
        except ValueError:
            header = None
        if not isinstance(header, dict) or header.get("base") != _digest(snapshot):
            return [], False  # another snapshot's journal: already part of this one
        records: list[list[Any]] = []
        for i, line in enumerate(lines[1:], start=2):
            # Every whole line was written by one write() with its newline: one that does not
            # parse is damage, not a kill (a cut line has no newline and is `torn`).
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if not isinstance(record, list):
                raise UserError(
                    f"The lab journal {self.journal} is not valid at line {i}; remove it and "
                    f"{self.snapshot.name} to start a fresh lab."
                )
            records.append(record)
        return records, not torn

    # -- saving -------------------------------------------------------------------------------

    def save(self, state: LabState) -> None:
        """Append the entities the calling task touched whose value changed, and the top-level
        fields if they changed, as one journal record."""
        marks = self._take_marks()
        self._follow_replaced(state)
        parts: list[str] = []
        self._entity(parts, ("root",), state.model_dump_json(exclude=_NESTED_STATE))
        for name in marks.hosts:
            h = state.hosts.get(name)
            self._entity(parts, ("h", name), h.model_dump_json() if h is not None else None)
        for name in marks.models:
            m = state.models.get(name)
            self._entity(parts, ("m", name),
                         m.model_dump_json(exclude=_NESTED_MODEL) if m is not None else None)
        for model, machine in marks.machines:
            m = state.models.get(model)
            host = m.machines.get(machine) if m is not None else None
            self._entity(parts, ("mm", model, machine), json.dumps(host) if host else None)
        for model, app in marks.apps:
            m = state.models.get(model)
            a = m.apps.get(app) if m is not None else None
            self._entity(parts, ("a", model, app),
                         a.model_dump_json(exclude={"units"}) if a is not None else None)
        for model, app, unit in marks.units:
            m = state.models.get(model)
            a = m.apps.get(app) if m is not None else None
            u = a.units.get(unit) if a is not None else None
            self._entity(parts, ("u", model, app, unit),
                         u.model_dump_json() if u is not None else None)
        if not parts:
            return
        self._append(("[" + ",".join(parts) + "]\n").encode())
        self.records_written += 1
        if self._journal_bytes > max(COMPACT_MIN_BYTES, COMPACT_FACTOR * self._snapshot_bytes):
            self.compact(state)

    def _entity(self, parts: list[str], key: Key, text: str | None) -> None:
        if key in self._written and self._written[key] == text:
            return
        self._written[key] = text
        names = ",".join(map(_json_string, key))
        parts.append(f"[[{names}],{'null' if text is None else text}]")

    def _append(self, data: bytes) -> None:
        if self._fd is None:
            self._open_journal()
        assert self._fd is not None
        view = memoryview(data)
        while view:
            n = os.write(self._fd, view)
            view = view[n:]
        self._journal_bytes += len(data)

    def compact(self, state: LabState) -> None:
        """Write the whole state as the snapshot and start an empty journal for it."""
        text = state.model_dump_json()
        write_atomic(self.snapshot, text)
        self._snapshot_bytes = len(text)
        self.close()
        write_atomic(self.journal, json.dumps({"base": _digest(text)}) + "\n")
        self._open_journal()

    def _open_journal(self) -> None:
        self.close()
        self._fd = os.open(
            self.journal, os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600
        )
        st = os.fstat(self._fd)
        self._journal_bytes, self._journal_id = st.st_size, (st.st_dev, st.st_ino)

    def _follow_replaced(self, state: LabState) -> None:
        """Another process opened the lab since (and compacted it: a new journal file), or the
        files were removed: append to the journal that is there now, entity values over its
        state, rather than to a file nobody will read."""
        try:
            st = os.stat(self.journal, follow_symlinks=False)
        except FileNotFoundError:
            self.compact(state)
            return
        if (st.st_dev, st.st_ino) != self._journal_id:
            self._open_journal()
            self._written.clear()  # its snapshot may hold other values than ours
            try:
                self._snapshot_bytes = self.snapshot.stat().st_size
            except FileNotFoundError:
                self.compact(state)

    def close(self) -> None:
        """Close the journal (saving again reopens it)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:
        self.close()


def read_state(state_dir: Path) -> LabState | None:
    """The lab state kept in `state_dir` (snapshot and journal), read only; None if none."""
    store = LabStore(state_dir)
    text = store._read(store.snapshot)
    records, _ = store._records(text)
    if text is None and not records:
        return None
    doc: dict[str, Any] = _parse(store.snapshot, text) if text else {}
    for i, record in enumerate(records, start=2):
        _apply(doc, record, store.journal, i)
    return LabState.model_validate(doc)


# -- replaying ----------------------------------------------------------------------------------


def _apply(doc: dict[str, Any], record: list[Any], journal: Path, line: int) -> None:
    """Apply one journal record (a list of [key, value]) to the state as plain JSON data."""
    for item in record:
        try:
            key, value = item
            kind, *names = key
            _apply_one(doc, kind, names, value)
        except (TypeError, ValueError, KeyError, AttributeError):
            raise UserError(
                f"The lab journal {journal} is not valid at line {line}; remove it and "
                f"{STATE_FILE} to start a fresh lab."
            ) from None


def _apply_one(doc: dict[str, Any], kind: str, names: list[str], value: Any) -> None:
    if kind == "root":
        doc.update(value)
        return
    if kind == "h":
        _put(doc.setdefault("hosts", {}), names[0], value)
        return
    models = doc.setdefault("models", {})
    if kind == "m":
        (name,) = names
        if value is not None:
            old = models.get(name) or {}
            value = {**value, "apps": old.get("apps", {}), "machines": old.get("machines", {})}
        _put(models, name, value)
        return
    model = models.get(names[0])
    if model is None:
        if value is None:
            return  # removed along with its model
        raise KeyError(names[0])
    if kind == "mm":
        _put(model.setdefault("machines", {}), names[1], value)
    elif kind == "a":
        apps = model.setdefault("apps", {})
        if value is not None:
            value = {**value, "units": (apps.get(names[1]) or {}).get("units", {})}
        _put(apps, names[1], value)
    elif kind == "u":
        app = model.setdefault("apps", {}).get(names[1])
        if app is None:
            if value is None:
                return
            raise KeyError(names[1])
        _put(app.setdefault("units", {}), names[2], value)
    else:
        raise ValueError(kind)


def _put(table: dict[str, Any], name: str, value: Any) -> None:
    if value is None:
        table.pop(name, None)
    else:
        table[name] = value


# -- helpers ------------------------------------------------------------------------------------


def _json_string(text: str) -> str:
    """`text` as a JSON string (json.dumps' own encoder, without its per-call overhead)."""
    return encode_basestring_ascii(text)


def _digest(snapshot: str | None) -> str:
    return hashlib.sha256((snapshot or "").encode()).hexdigest()


def _parse(path: Path, text: str) -> dict[str, Any]:
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise UserError(
            f"The lab state {path} is not valid (not JSON: {e}); remove it to start a fresh lab."
        ) from None
    if not isinstance(doc, dict):
        raise UserError(
            f"The lab state {path} is not valid (top level: not an object); "
            "remove it to start a fresh lab."
        )
    return doc


def _validate(path: Path, text: str | None) -> LabState:
    if text is None:
        return LabState()
    try:
        return LabState.model_validate_json(text)
    except ValidationError as e:
        raise _invalid(path, e) from None


def _invalid(path: Path, e: ValidationError) -> UserError:
    first = e.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "top level"
    return UserError(
        f"The lab state {path} is not valid ({where}: {first['msg']}); "
        "remove it to start a fresh lab."
    )
