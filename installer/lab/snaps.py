"""The lab's snapd: snaps installed, refreshed, reverted and configured on the lab's hosts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from installer.backends.base import BackendError, ProgressFn, SnapInfo
from installer.lab.cluster import LabCluster
from installer.lab.state import SnapState
from installer.lab.store import default_revision
from installer.lab.timing import SECONDS, SNAP_DEFAULT_SECONDS, SNAP_SECONDS

SYSTEM_SNAP = "system"  # snapd's pseudo-snap for its own options, always there

CEPH_SNAP = "microceph"


def _info(name: str, s: SnapState) -> SnapInfo:
    return SnapInfo(name=name, channel=s.channel, revision=str(s.revision), classic=s.classic)


class LabSnaps:
    """snapd on every lab host."""

    def __init__(self, lab: LabCluster) -> None:
        self.lab = lab

    def _snap(self, host: str, name: str) -> SnapState:
        s = self.lab.host(host).snaps.get(name)
        if s is None:
            raise BackendError(
                f"snap {name!r} is not installed on {host}",
                hint=f"Install it first (`snap install {name}`).",
            )
        return s

    async def info(self, host: str, name: str) -> SnapInfo | None:
        s = self.lab.host(host).snaps.get(name)
        return _info(name, s) if s else None

    async def install(
        self, host: str, name: str, channel: str, *, classic: bool, progress: ProgressFn
    ) -> SnapInfo:
        h = self.lab.host(host)
        if name in h.snaps:
            raise BackendError(f"snap {name!r} is already installed on {host}")
        await self.lab.op(
            f"snap.install:{name}@{host}",
            SNAP_SECONDS.get(name, SNAP_DEFAULT_SECONDS),
            progress=progress,
            phases=(
                f'Download snap "{name}" ({channel})',
                f'Mount snap "{name}"',
                f'Setup snap "{name}" security profiles',
                f'Run install hook of "{name}"',
            ),
        )
        if name in h.snaps:  # another caller won the race while we waited
            raise BackendError(f"snap {name!r} is already installed on {host}")
        h.snaps[name] = SnapState(
            channel=channel, revision=default_revision(name, channel), classic=classic
        )
        self.lab.save()
        return _info(name, h.snaps[name])

    async def refresh(
        self, host: str, name: str, channel: str, *, progress: ProgressFn
    ) -> SnapInfo:
        self._snap(host, name)
        op = f"snap.refresh:{name}@{host}"
        await self.lab.op(
            op,
            SNAP_SECONDS.get(name, SNAP_DEFAULT_SECONDS),
            progress=progress,
            phases=(
                f'Download snap "{name}" ({channel})',
                f'Stop snap "{name}" services',
                f'Mount snap "{name}"',
                f'Run post-refresh hook of "{name}"',
                f'Start snap "{name}" services',
            ),
            fault=False,
        )
        failure: BackendError | None = None
        try:
            self.lab.faults.check(op)
        except BackendError as e:
            if e.transient:
                raise  # refused before anything changed, as a snapd change conflict is
            failure = e
        s = self._snap(host, name)
        revision = default_revision(name, channel)
        if (s.channel, s.revision) != (channel, revision):
            s.previous = (s.channel, s.revision)
            s.channel, s.revision = channel, revision
            self._restarted(host, name)
            self.lab.save()
        if failure is not None:
            # A permanent fault is a failing post-refresh hook: the new revision is mounted,
            # its services do not start; the caller decides whether to revert.
            raise BackendError(f'run hook "post-refresh": {failure.message}', hint=failure.hint)
        return _info(name, s)

    async def revert(self, host: str, name: str, *, progress: ProgressFn) -> SnapInfo:
        s = self._snap(host, name)
        if s.previous is None:
            raise BackendError(
                f"snap {name!r} on {host} has no previous revision to revert to",
                hint="Only a refreshed snap can be reverted.",
            )
        await self.lab.op(
            f"snap.revert:{name}@{host}",
            SECONDS["snap-revert"],
            progress=progress,
            phases=(
                f'Stop snap "{name}" services',
                f'Mount previous revision of "{name}"',
                f'Start snap "{name}" services',
            ),
        )
        s = self._snap(host, name)
        if s.previous is not None:
            (s.channel, s.revision), s.previous = s.previous, None
            self._restarted(host, name)
            self.lab.save()
        return _info(name, s)

    def _restarted(self, host: str, name: str) -> None:
        """A new microceph revision restarts the host's OSDs: down until they rejoin."""
        if name == CEPH_SNAP:
            h = self.lab.host(host)
            h.osds_up_at = self.lab.now() + self.lab.scaled(SECONDS["osd-restart"], host)

    async def set_config(self, host: str, name: str, values: Mapping[str, object]) -> None:
        if name == SYSTEM_SNAP:  # snapd's own options (`snap set system proxy.http=…`)
            h = self.lab.host(host)
            await self.lab.op(f"snap.set-config:{name}@{host}", SECONDS["snap-config"])
            h.system_config.update(values)
            self.lab.save()
            return
        self._snap(host, name)
        await self.lab.op(f"snap.set-config:{name}@{host}", SECONDS["snap-config"])
        self._snap(host, name).config.update(values)
        self.lab.save()

    async def get_config(self, host: str, name: str, keys: Sequence[str]) -> dict[str, object]:
        config = (
            self.lab.host(host).system_config if name == SYSTEM_SNAP
            else self._snap(host, name).config
        )
        return {k: config[k] for k in keys if k in config}

    def changes(self, host: str) -> list[dict[str, object]]:
        """snapd's changes on `host` as `GET /v2/changes?select=all` lists them, for `inspect`:
        the lab keeps what is installed, not a change log, so each snap shows the changes that
        made it what it is (install, a refresh it has not reverted, config, connections)."""
        h = self.lab.host(host)
        out: list[dict[str, object]] = []

        def change(kind: str, summary: str) -> None:
            cid = str(len(out) + 1)
            out.append({"id": cid, "kind": kind, "summary": summary, "status": "Done",
                        "ready": True, "tasks": [
                            {"id": f"{cid}0", "kind": kind, "summary": summary,
                             "status": "Done", "progress": {"label": "", "done": 1, "total": 1}}
                        ]})

        if h.system_config:
            change("change-snap-conf", 'Change configuration of "core" snap')
        for name, s in h.snaps.items():
            first = s.previous[0] if s.previous else s.channel
            change("install-snap", f'Install "{name}" snap from "{first}" channel')
            if s.previous:
                change("refresh-snap", f'Refresh "{name}" snap from "{s.channel}" channel')
            if s.config:
                change("change-snap-conf", f'Change configuration of "{name}" snap')
            for conn in s.connections:
                plug, _, slot = conn.partition(" ")
                change("connect-snap", f"Connect {plug} to {slot}")
        return out

    async def connect(self, host: str, plug: str, slot: str) -> None:
        snap = plug.split(":", 1)[0]
        self._snap(host, snap)
        await self.lab.op(f"snap.connect:{plug}@{host}", SECONDS["snap-config"])
        s = self._snap(host, snap)
        if f"{plug} {slot}" not in s.connections:
            s.connections.append(f"{plug} {slot}")
            self.lab.save()
