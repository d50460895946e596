"""Inspect: one gzipped tarball of what an operator attaches to a bug report.

As Sunbeam's `sunbeam inspect` (its `juju status` JSON and `juju debug-log --replay --no-tail`
of each model, and its logs directory, in a timestamped tarball), plus what this installer
knows: the journal summary and every step of the run, the run logs and event files, the answers
and the host facts, the pods and events of the OpenStack namespace and snapd's changes on every
host. A MANIFEST lists each member and each thing that could not be collected, with why: one
collector failing (a host down, no Kubernetes yet) is noted, never fatal.

Nothing secret goes in. Every member is redacted on the way in with a Redactor that knows the
run's secrets: everything kept in the state dir's secrets (the admin password, proxy URLs with
credentials), the admin password file the answers name, and any URL's credentials. The tarball
and its members are 0600; an existing file is never overwritten.

Read-only: no lock is taken (a detached run may be going on) and the lab is only read.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import json
import os
import re
import stat
import tarfile
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from installer.exits import Exit, UserError

if TYPE_CHECKING:
    from installer.backends.diagnostics import DiagnosticsSource
    from installer.journal import RunRecord
    from installer.pipeline.settings import RunSettings
    from installer.secrets import Redactor
    from installer.state import StateDir
    from manifests.answers import Answers
    from probes.facts import HostFacts

PREFIX = "sunbeam-install-inspection"
DEBUG_LOG_LINES = 1000  # per model
COLLECTOR_TIMEOUT = 300.0  # seconds, each; a generous bound for a slow host or controller
PARALLEL = 8
SECRET_FILE_MAX = 64 * 1024
MANIFEST = "MANIFEST"


@dataclass
class InspectResult:
    """What `collect` wrote: the tarball, its members, and what could not be collected."""

    path: Path
    members: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (what, why)


def default_out(now: float | None = None, cwd: Path | None = None) -> Path:
    """`sunbeam-install-inspection-YYYYmmdd-HHMMSS.tar.gz` in the current directory."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(time.time() if now is None else now))
    return (cwd or Path.cwd()) / f"{PREFIX}-{stamp}.tar.gz"


def check_out(path: Path) -> None:
    """Refuse an --out that exists (never overwritten) or whose directory does not (exit 2)."""
    if path.exists() or path.is_symlink():
        raise UserError(
            f"--out {str(path)!r} already exists; inspect never overwrites a file. Give another "
            "name, or leave --out out for a new timestamped file.", Exit.USAGE)
    if not path.parent.is_dir():
        raise UserError(f"--out {str(path)!r}: the directory {str(path.parent)!r} does not "
                        "exist; give a path in an existing directory.", Exit.USAGE)


# -- the redactor ------------------------------------------------------------------------------


def bundle_redactor(state: StateDir, answers: Answers | None) -> tuple[Redactor, list[str]]:
    """A Redactor of every secret the run knows, and notes on those it could not read."""
    from installer.secrets import PROXY_SECRETS, Redactor, redact_url_credentials

    redactor = Redactor()
    notes: list[str] = []
    proxy_names = set(PROXY_SECRETS.values())
    if state.secrets_dir.is_dir():
        for entry in sorted(state.secrets_dir.iterdir()):
            if not entry.is_file() or entry.is_symlink():
                continue
            try:
                with entry.open("rb") as f:
                    value = f.read(SECRET_FILE_MAX).decode("utf-8", "replace").strip()
            except OSError as e:
                notes.append(f"the secret {entry.name} cannot be read ({e.strerror}); "
                             "it may not be redacted")
                continue
            if not value:
                continue
            redactor.add(value)
            # A multi-line secret (a key file) may be quoted a line at a time.
            for line in value.splitlines():
                if len(line.strip()) >= 8:
                    redactor.add(line.strip())
            if entry.name in proxy_names and redact_url_credentials(value) != value:
                userinfo = value.split("://", 1)[-1].rsplit("@", 1)[0]
                redactor.add(userinfo)
                redactor.add(userinfo.partition(":")[2] or userinfo)
    password_file = answers.identity.admin_password_file if answers is not None else None
    if password_file:
        from manifests.files import FileProblem, read_password_file

        try:
            redactor.add(read_password_file(password_file))
        except FileProblem as e:
            notes.append(f"the admin password file {password_file!r} {e.reason}: the password "
                         "it held is not known here (the run's own logs were redacted as they "
                         "were written)")
    return redactor, notes


# -- the tarball -------------------------------------------------------------------------------


def _create_private(path: Path) -> int:
    """Create `path` 0600, never through a link and never over an existing file."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        check_out(path)  # names it (exit 2)
        raise
    except OSError as e:
        raise UserError(f"Cannot create {str(path)!r} ({e.strerror}); give --out a path you "
                        "can write.", Exit.USAGE) from None
    os.fchmod(fd, 0o600)  # whatever the umask
    return fd


class _Bundle:
    """The tarball being written: every member redacted, 0600, under one top directory."""

    def __init__(self, tar: tarfile.TarFile, prefix: str, redactor: Redactor) -> None:
        self.tar = tar
        self.prefix = prefix
        self.redactor = redactor
        self.mtime = time.time()
        self.members: list[tuple[str, str]] = []  # (name, what it is)

    def _info(self, name: str, size: int) -> tarfile.TarInfo:
        info = tarfile.TarInfo(f"{self.prefix}/{name}")
        info.size, info.mode, info.mtime = size, 0o600, int(self.mtime)
        info.type = tarfile.REGTYPE
        return info

    def add_bytes(self, name: str, data: bytes, what: str) -> None:
        self.tar.addfile(self._info(name, len(data)), io.BytesIO(data))
        self.members.append((name, what))

    def add_text(self, name: str, text: str, what: str) -> None:
        self.add_bytes(name, self.redactor.redact(text).encode(), what)

    def add_json(self, name: str, value: Any, what: str) -> None:
        # The redacted form stays valid JSON: the replacement holds no quote or backslash.
        self.add_text(name, json.dumps(value, indent=2, default=str) + "\n", what)

    def add_file(self, name: str, path: Path, what: str) -> None:
        """A file of the state dir, redacted line by line (a day's debug log is large)."""
        with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
            with path.open("r", encoding="utf-8", errors="replace") as f:
                for line in f:
                    spool.write(self.redactor.redact(line).encode())
            size = spool.tell()
            spool.seek(0)
            self.tar.addfile(self._info(name, size), spool)
        self.members.append((name, what))


def _safe(name: str) -> str:
    """A member name part from a model or host name (no path separators, no dot-dot)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".") or "_"


def _reason(e: BaseException) -> str:
    from installer.backends.base import BackendError

    if isinstance(e, TimeoutError):
        return f"no answer within {COLLECTOR_TIMEOUT:g} s"
    if isinstance(e, BackendError | UserError):
        return str(e)
    return f"{type(e).__name__}: {e}"


# -- collection --------------------------------------------------------------------------------


@dataclass
class _Collected:
    name: str
    what: str
    value: Any = None
    text: str | None = None
    error: str | None = None


async def _gather(jobs: list[tuple[str, str, Callable[[], Awaitable[Any]]]]) -> list[_Collected]:
    """Run the collectors (bounded, each with a timeout); a failure is kept as its reason."""
    gate = asyncio.Semaphore(PARALLEL)

    async def one(name: str, what: str, job: Callable[[], Awaitable[Any]]) -> _Collected:
        async with gate:
            try:
                value = await asyncio.wait_for(job(), COLLECTOR_TIMEOUT)
            except Exception as e:  # one collector failing is noted, never fatal
                return _Collected(name, what, error=_reason(e))
        if isinstance(value, list) and name.endswith(".txt"):  # a log tail: its lines
            return _Collected(name, what, text="".join(f"{line}\n" for line in value))
        return _Collected(name, what, value=value)

    return list(await asyncio.gather(*(one(*j) for j in jobs)))


async def _cloud_jobs(
    source: DiagnosticsSource, hosts: list[str], failed: list[tuple[str, str]]
) -> list[tuple[str, str, Callable[[], Awaitable[Any]]]]:
    """The collectors of the cloud: per model, the namespace, per host."""
    from manifests.release import K8S_MODEL

    jobs: list[tuple[str, str, Callable[[], Awaitable[Any]]]] = []
    try:
        models = await asyncio.wait_for(source.models(), COLLECTOR_TIMEOUT)
    except Exception as e:
        failed.append(("juju models", _reason(e)))
        models = []
    else:
        if not models:
            failed.append(("juju models", "no models: the Juju controller is not there yet"))
    for model in models:
        part = _safe(model)
        jobs.append((f"juju/status-{part}.json", f"juju status --format json -m {model}",
                     partial(source.juju_status, model)))
        jobs.append((f"juju/debug-log-{part}.txt",
                     f"juju debug-log -m {model}, the last {DEBUG_LOG_LINES} lines",
                     partial(source.debug_log, model, DEBUG_LOG_LINES)))
    jobs.append(("k8s/pods.json", f"pods of the {K8S_MODEL} namespace",
                 partial(source.pods, K8S_MODEL)))
    jobs.append(("k8s/events.json", f"events of the {K8S_MODEL} namespace",
                 partial(source.k8s_events, K8S_MODEL)))
    for host in hosts:
        jobs.append((f"snaps/{_safe(host)}.changes.json", f"snap changes on {host}",
                     partial(source.snap_changes, host)))
    return jobs


def _facts_members(facts: Mapping[str, HostFacts]) -> list[tuple[str, str, Any]]:
    return [(f"facts/{_safe(h)}.json", f"probe facts of {h}",
             json.loads(f.model_dump_json())) for h, f in sorted(facts.items())]


async def _lab_cloud(settings: RunSettings, state: StateDir, bundle_failed: list[tuple[str, str]]
                     ) -> tuple[list[tuple[str, str, Any]], list[_Collected]]:
    from installer.lab.diagnostics import LabDiagnostics
    from installer.pipeline.backends import open_lab

    try:
        lab = open_lab(settings.for_mode(True), state)
    except UserError as e:
        bundle_failed.append(("the lab", str(e)))
        return [], []
    facts = _facts_members(lab.facts())
    jobs = await _cloud_jobs(LabDiagnostics(lab), lab.host_names(), bundle_failed)
    return facts, await _gather(jobs)


async def _real_cloud(settings: RunSettings, state: StateDir, answers: Answers | None,
                      bundle_failed: list[tuple[str, str]]
                      ) -> tuple[list[tuple[str, str, Any]], list[_Collected]]:
    if answers is None:
        bundle_failed.append(("the cloud", "the run's answers cannot be read, so its hosts, "
                              "controller and cluster are not known"))
        return [], []
    from installer.backends.diagnostics import RealDiagnostics
    from installer.backends.real import probe_answer_hosts, real_backends

    ep = settings.endpoints
    keys = [str(settings.ssh_identity)] if settings.ssh_identity else None
    facts: list[tuple[str, str, Any]] = []
    try:
        found, unreachable = await asyncio.wait_for(probe_answer_hosts(
            answers, accept_new_host_keys=settings.accept_new_host_keys,
            known_hosts=ep.known_hosts, client_keys=keys), COLLECTOR_TIMEOUT)
    except Exception as e:
        bundle_failed.append(("probe facts", _reason(e)))
    else:
        facts = _facts_members(found)
        bundle_failed.extend((f"probe facts of {h}", why) for h, why in unreachable.items())
    backends = real_backends(
        answers, state.path, accept_new_host_keys=settings.accept_new_host_keys,
        snapd_socket=ep.snapd_socket, kubeconfig=ep.kubeconfig, juju_binary=ep.juju_binary,
        known_hosts=ep.known_hosts, client_keys=keys, poll_interval=ep.poll_interval)
    try:
        source = RealDiagnostics.from_backends(backends)
        jobs = await _cloud_jobs(source, [h.name for h in answers.hosts], bundle_failed)
        return facts, await _gather(jobs)
    finally:
        await backends.aclose()


def _last_run(state: StateDir, run_id: str | None) -> tuple[RunRecord, list[dict[str, Any]]]:
    from installer.journal import open_journal

    journal = open_journal(state.journal_path)
    try:
        run = journal.get_run(run_id) if run_id else journal.last_run()
        if run is None:
            raise UserError(f"No run is recorded in {str(state.path)!r}; there is nothing to "
                            "inspect.", Exit.INVALID)
        steps = [dataclasses.asdict(s) for s in journal.steps(run.id)]
    finally:
        journal.close()
    return run, steps


def _state_files(state: StateDir, sub: str) -> list[Path]:
    """The regular files under `<state>/<sub>` (links and others' files were refused by
    `StateDir.check`; skipped here too)."""
    root = state.path / sub
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*")
                  if stat.S_ISREG(p.lstat().st_mode) and not p.name.startswith("."))


async def collect(
    settings: RunSettings, *, summary: Mapping[str, Any], out: Path | None = None
) -> InspectResult:
    """Write the diagnostics tarball of the state dir's last run (`summary`: what `status
    --json` says of it) to `out` (default: `default_out()`); UserError when there is no run
    or `out` cannot be written."""
    from pydantic import ValidationError

    from installer.state import StateDir
    from manifests.answers import Answers

    path = out or default_out()
    check_out(path)
    state = StateDir(settings.resolved_state_dir()).check()
    run, steps = _last_run(state, str(summary.get("run_id") or "") or None)
    answers: Answers | None = None
    failed: list[tuple[str, str]] = []
    try:
        answers = Answers.model_validate_json(run.answers_snapshot)
    except ValidationError:
        failed.append(("the answers", f"the answers recorded for run {run.id} cannot be read "
                                      "by this version"))
    redactor, notes = bundle_redactor(state, answers)
    failed.extend(("redaction", note) for note in notes)

    if run.dry_run:
        facts, cloud = await _lab_cloud(settings, state, failed)
    else:
        facts, cloud = await _real_cloud(settings, state, answers, failed)

    fd = _create_private(path)
    name = path.name.removesuffix(".gz").removesuffix(".tar").removesuffix(".tgz") or PREFIX
    try:
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            bundle = _Bundle(tar, _safe(name), redactor)
            bundle.add_json("status.json", dict(summary), "the journal summary (status --json)")
            bundle.add_json("journal-steps.json", steps, f"every step of run {run.id}")
            try:
                recorded: Any = json.loads(run.answers_snapshot)
            except ValueError:
                recorded = run.answers_snapshot  # kept as the journal has it, redacted
            bundle.add_json("answers.json", recorded,
                            "the run's answers (proxy credentials as ***)")
            for sub, what in (("logs", "run log"), ("runs", "run events")):
                for p in _state_files(state, sub):
                    rel = p.relative_to(state.path).as_posix()
                    try:
                        bundle.add_file(rel, p, what)
                    except OSError as e:
                        failed.append((rel, e.strerror or type(e).__name__))
            for member, what, value in facts:
                bundle.add_json(member, value, what)
            for c in cloud:
                if c.error is not None:
                    failed.append((c.what, c.error))
                elif c.text is not None:
                    bundle.add_text(c.name, c.text, c.what)
                else:
                    bundle.add_json(c.name, c.value, c.what)
            bundle.add_text(MANIFEST, _manifest(run, settings, bundle.members, failed),
                            "this list")
            members = [m for m, _ in bundle.members]
    except BaseException:
        with contextlib.suppress(OSError):
            path.unlink()
        raise
    return InspectResult(path, members, failed)


def _manifest(run: RunRecord, settings: RunSettings, members: list[tuple[str, str]],
              failed: list[tuple[str, str]]) -> str:
    mode = "dry-run (the simulated lab)" if run.dry_run else "real"
    lines = [
        "sunbeam-install inspection",
        f"created: {time.strftime('%Y-%m-%d %H:%M:%S %z')}",
        f"state dir: {settings.resolved_state_dir()}",
        f"run: {run.id} ({run.kind}, {mode}, {run.outcome or 'not finished'})",
        "",
        "collected:",
        *(f"  {name}\t{what}" for name, what in members),
        f"  {MANIFEST}\tthis list",
        "",
        "not collected:" if failed else "not collected: nothing",
        *(f"  {what}\t{' '.join(why.split())}" for what, why in failed),
    ]
    return "\n".join(lines) + "\n"
