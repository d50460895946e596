"""A small async client of the snapd REST API, and the SnapBackend built on it.

Why not charmlibs-snap or the `snap` CLI: both block until a change ends and hide its task
progress. The REST API returns a change id for every write (``type: async``); polling
``/v2/changes/{id}`` gives each task's ``progress: {label, done, total}``, which becomes download
percentages in the UI.

Local host: httpx over the unix socket ``/run/snapd.socket``. snapd authorises writes by the
peer uid of the socket connection, so the installer runs as root (the real-mode gate checks it).

Remote hosts: snapd only listens on a unix socket that only root may write through, and
forwarding that socket over SSH would connect as the SSH user (snapd would refuse the write). So
for a remote host each HTTP request runs ``sudo -n curl --unix-socket /run/snapd.socket ...`` over
the host's reused SSH connection (`SshCurlTransport`): the same REST calls, the same change
polling and progress, with root on the remote side through sudo. curl is part of every Ubuntu
server image.
"""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from installer.backends.base import BackendError, ProgressFn, SnapInfo

if TYPE_CHECKING:
    from installer.backends.ssh import SshConnections

SNAPD_SOCKET = "/run/snapd.socket"
CURL_MARKER = "--- sunbeam-install snapd answer ---"
# The host part of the URL is ignored by snapd; "localhost" keeps httpx and curl happy.
BASE_URL = "http://localhost"

# Change statuses (snapd overlord/state): ready ones end the wait.
_DONE_STATUSES = {"Done"}
_FAILED_STATUSES = {"Error", "Undone", "Hold"}
_FINISHED_TASK_STATUSES = {"Done", "Undone", "Error", "Hold"}
_RISKS = ("stable", "candidate", "beta", "edge")
# How snapd words a store it cannot reach (DNS, refused, proxy, timeouts): real snapd gives
# such errors no `kind`, so the text is all there is.
_STORE_UNREACHABLE = (
    "dial tcp",
    "no such host",
    "lookup ",
    "proxyconnect",
    "network is unreachable",
    "connection refused",
    "i/o timeout",
    "tls handshake timeout",
    "temporary failure in name resolution",
    "client.timeout exceeded",
    "persistent network error",
)


def normalize_channel(channel: str) -> str:
    """A channel as snapd reports it: `stable` is `latest/stable`, `3.6` is `3.6/stable`."""
    parts = [p for p in channel.strip().split("/") if p]
    if not parts:
        return "latest/stable"
    if len(parts) == 1:
        return f"latest/{parts[0]}" if parts[0] in _RISKS else f"{parts[0]}/stable"
    if parts[0] in _RISKS:  # risk/branch
        return "/".join(["latest", *parts])
    return "/".join(parts)


def same_channel(a: str, b: str) -> bool:
    """Whether two channel names are the same channel (`stable` == `latest/stable`)."""
    return normalize_channel(a) == normalize_channel(b)


def store_unreachable(text: str) -> bool:
    low = text.lower()
    return any(p in low for p in _STORE_UNREACHABLE)


class SnapdError(BackendError):
    """snapd answered with an error envelope; `kind` is snapd's error kind (may be empty)."""

    def __init__(
        self,
        message: str,
        *,
        kind: str = "",
        status_code: int = 0,
        hint: str | None = None,
        transient: bool = False,
    ) -> None:
        super().__init__(message, hint=hint, transient=transient)
        self.kind = kind
        self.status_code = status_code


def _no_progress(message: str, fraction: float | None) -> None:
    del message, fraction


@dataclass
class SnapdClient:
    """One snapd: every method is one REST call (plus change polling for writes).

    `where` names the host in messages ("on node2"). `poll_interval` is how often a change is
    polled; `change_timeout` bounds the wait for one change (a k8s snap download on a slow link
    takes minutes; snapd itself gives up on stuck downloads).
    """

    transport: httpx.AsyncBaseTransport
    where: str = "this host"
    host: str = "this host"  # the host's name in the answers, for messages that start with it
    poll_interval: float = 0.5
    change_timeout: float = 3600.0
    # How long snapd may be unreachable while polling: it restarts itself when refreshing
    # the snapd/core snaps, and the change continues after the restart.
    restart_tolerance: float = 60.0
    _client: httpx.AsyncClient | None = field(default=None, init=False, repr=False)

    @classmethod
    def local(cls, socket_path: str = SNAPD_SOCKET, **kw: Any) -> SnapdClient:
        """A client of this machine's snapd over its unix socket."""
        return cls(httpx.AsyncHTTPTransport(uds=socket_path), **kw)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=self.transport, base_url=BASE_URL, timeout=httpx.Timeout(60.0)
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # -- the envelope ------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """One REST call; returns the whole response envelope (type, status-code, result, change).

        Raises SnapdError for an error envelope and BackendError when snapd cannot be reached.
        """
        try:
            resp = await self._http().request(
                method, path, json=dict(body) if body is not None else None, params=params
            )
        except (httpx.ConnectError, FileNotFoundError, ConnectionRefusedError) as e:
            raise BackendError(
                f"Cannot reach snapd {self.where} ({e or type(e).__name__}).",
                hint="Check that snapd is running: `sudo systemctl start snapd.socket`.",
                transient=True,
            ) from None
        except httpx.TransportError as e:
            raise BackendError(
                f"The connection to snapd {self.where} failed ({e or type(e).__name__}).",
                hint="Check that snapd is running and try again.",
                transient=True,
            ) from None
        try:
            envelope = resp.json()
        except ValueError:
            raise BackendError(
                f"snapd {self.where} answered {method} {path} with HTTP {resp.status_code} "
                "and a body that is not JSON.",
                hint="Check snapd's health with `snap version` and `journalctl -u snapd`.",
            ) from None
        if not isinstance(envelope, dict) or "type" not in envelope:
            raise BackendError(
                f"snapd {self.where} answered {method} {path} without a response envelope.",
                hint="Check snapd's health with `snap version`.",
            )
        if envelope["type"] == "error":
            result = envelope.get("result") or {}
            raise SnapdError(
                str(result.get("message") or envelope.get("status") or "unknown error"),
                kind=str(result.get("kind") or ""),
                status_code=int(envelope.get("status-code") or resp.status_code),
            )
        return envelope

    # -- reads -------------------------------------------------------------------------------

    async def get_snap(self, name: str) -> dict[str, Any] | None:
        """The installed snap's details, or None when it is not installed."""
        try:
            env = await self.request("GET", f"/v2/snaps/{name}")
        except SnapdError as e:
            if e.kind == "snap-not-found" or e.status_code == 404:
                return None
            raise self._explain(e, name) from None
        result = env.get("result")
        return result if isinstance(result, dict) else None

    async def list_snaps(self) -> list[dict[str, Any]]:
        env = await self.request("GET", "/v2/snaps")
        return list(env.get("result") or [])

    async def get_conf(self, name: str, keys: list[str] | None = None) -> dict[str, Any]:
        params = {"keys": ",".join(keys)} if keys else None
        try:
            env = await self.request("GET", f"/v2/snaps/{name}/conf", params=params)
        except SnapdError as e:
            raise self._explain(e, name, installed_only=True) from None
        return dict(env.get("result") or {})

    async def change(self, change_id: str) -> dict[str, Any]:
        env = await self.request("GET", f"/v2/changes/{change_id}")
        return dict(env.get("result") or {})

    async def changes_in_progress(self, name: str) -> list[dict[str, Any]]:
        """The changes of the snap `name` that are not ready yet (an earlier attempt's)."""
        env = await self.request(
            "GET", "/v2/changes", params={"select": "in-progress", "for": name}
        )
        return [
            c for c in env.get("result") or [] if isinstance(c, dict) and not c.get("ready")
        ]

    # -- writes ------------------------------------------------------------------------------

    async def snap_action(
        self,
        name: str,
        action: str,
        *,
        channel: str | None = None,
        classic: bool = False,
        progress: ProgressFn = _no_progress,
    ) -> dict[str, Any]:
        """install / refresh / revert `name` and wait for the change; returns the change."""
        body: dict[str, Any] = {"action": action}
        if channel:
            body["channel"] = channel
        if classic:
            body["classic"] = True
        try:
            env = await self.request("POST", f"/v2/snaps/{name}", body)
        except SnapdError as e:
            raise self._explain(e, name, channel=channel) from None
        return await self._follow(env, progress, what=f"{action} {name}")

    async def connect(
        self,
        plug_snap: str,
        plug: str,
        slot_snap: str,
        slot: str,
        *,
        progress: ProgressFn = _no_progress,
    ) -> dict[str, Any] | None:
        body = {
            "action": "connect",
            "plugs": [{"snap": plug_snap, "plug": plug}],
            "slots": [{"snap": slot_snap, "slot": slot}],
        }
        try:
            env = await self.request("POST", "/v2/interfaces", body)
        except SnapdError as e:
            if e.kind == "interfaces-unchanged":  # already connected: the wanted state
                return None
            raise self._explain(
                e, plug_snap, detail=f"connect {plug_snap}:{plug} to {slot_snap}:{slot}"
            ) from None
        return await self._follow(env, progress, what=f"connect {plug_snap}:{plug}")

    async def set_conf(
        self, name: str, values: Mapping[str, object], *, progress: ProgressFn = _no_progress
    ) -> dict[str, Any]:
        try:
            env = await self.request("PUT", f"/v2/snaps/{name}/conf", dict(values))
        except SnapdError as e:
            raise self._explain(e, name, installed_only=True) from None
        return await self._follow(env, progress, what=f"configure {name}")

    # -- changes -----------------------------------------------------------------------------

    async def _follow(
        self, env: dict[str, Any], progress: ProgressFn, *, what: str
    ) -> dict[str, Any]:
        if env.get("type") != "async":  # some writes answer synchronously
            return dict(env.get("result") or {})
        change_id = env.get("change")
        if not change_id:
            raise BackendError(
                f"snapd {self.where} accepted '{what}' but returned no change id.",
                hint="Check `snap changes` on that host.",
            )
        return await self.wait_change(str(change_id), progress, what=what)

    async def wait_change(
        self, change_id: str, progress: ProgressFn = _no_progress, *, what: str = "change"
    ) -> dict[str, Any]:
        """Poll a change until it is ready; task progress goes to `progress` as it changes."""
        deadline = time.monotonic() + self.change_timeout
        unreachable_since: float | None = None
        last: tuple[str, float | None] | None = None
        while True:
            try:
                change = await self.change(change_id)
                unreachable_since = None
            except BackendError as e:
                if not e.transient or isinstance(e, SnapdError):
                    raise
                now = time.monotonic()
                unreachable_since = unreachable_since or now
                if now - unreachable_since > self.restart_tolerance:
                    raise
                await asyncio.sleep(self.poll_interval)
                continue
            report = change_progress(change)
            if report != last:
                progress(*report)
                last = report
            if change.get("ready"):
                status = change.get("status", "")
                if status in _DONE_STATUSES:
                    return change
                error = change_error(change)
                if store_unreachable(error):
                    raise self._unreachable(error, change_id)
                raise BackendError(
                    f"snapd {self.where} could not {what}: {change_error(change)}",
                    hint=f"See `snap tasks {change_id}` on that host for details.",
                    transient="change-conflict" in str(change.get("err", "")),
                )
            if time.monotonic() > deadline:
                raise BackendError(
                    f"snapd {self.where} did not finish '{what}' within "
                    f"{self.change_timeout:g} s (change {change_id}, {change.get('status')}).",
                    hint=f"Check `snap tasks {change_id}` on that host; a slow download may "
                    "need a proxy setting.",
                    transient=True,
                )
            await asyncio.sleep(self.poll_interval)

    # -- error messages ----------------------------------------------------------------------

    def _unreachable(self, detail: str, change_id: str | None = None) -> SnapdError:
        see = f" (`snap tasks {change_id}` there)" if change_id else ""
        return SnapdError(
            f"{self.host} cannot reach the snap store: check proxy ({' '.join(detail.split())}).",
            kind="store-unreachable",
            hint="Give the proxy in the answers file, or on that host `snap set system "
            f"proxy.https=http://PROXY:PORT`; check its DNS and route to the store{see}.",
        )

    def _explain(
        self,
        e: SnapdError,
        name: str,
        *,
        channel: str | None = None,
        detail: str | None = None,
        installed_only: bool = False,
    ) -> SnapdError:
        """A snapd error turned into one clear sentence naming the snap, the host and the fix.

        `installed_only`: the call works on an installed snap (its config), so "not found"
        means not installed, never "not in the store"."""
        where = self.where
        kind = e.kind
        msg, hint, transient = e.message, None, False
        if installed_only and kind in {"snap-not-found", "snap-not-installed"}:
            msg = f"The snap {name!r} is not installed {where}."
            hint = "Install it first (rerun the install)."
        elif not kind and store_unreachable(e.message):
            return self._unreachable(e.message)
        elif kind == "snap-not-found":
            msg = f"The snap {name!r} was not found in the store (asked {where})."
            hint = (
                "Check the snap name in the release manifest and that the host reaches the store."
            )
        elif kind == "snap-not-installed":
            msg = f"The snap {name!r} is not installed {where}."
            hint = "Install it first (rerun the install)."
        elif kind == "snap-change-conflict":
            msg = f"Another change is in progress for the snap {name!r} {where}."
            hint = "It is retried automatically; `snap changes` on that host shows what is running."
            transient = True
        elif kind == "snap-needs-classic":
            msg = f"The snap {name!r} needs classic confinement ({where})."
            hint = "Mark it `classic: true` in the release manifest."
        elif kind in {"snap-channel-not-available", "snap-revision-not-available"}:
            msg = (
                f"The snap {name!r} has no channel {channel or '(default)'!r} "
                "for this host's architecture."
            )
            hint = f"Pick an existing channel; `snap info {name}` lists them."
        elif kind == "insufficient-disk-space":
            msg = f"There is not enough disk space {where} for the snap {name!r}."
            hint = "Free space under /var/lib/snapd and run again."
        elif kind in {"network-timeout", "dns-failure"}:
            return self._unreachable(e.message)
        elif kind == "login-required" or e.status_code in {401, 403}:
            msg = f"snapd {where} refused to change the snap {name!r}: {e.message}."
            hint = (
                "Run sunbeam-install as root (sudo), and for remote hosts give the SSH user "
                "passwordless sudo."
            )
        elif kind == "option-not-found":
            msg = f"The snap {name!r} has no such configuration option ({e.message})."
            hint = "Check the option names."
        else:
            what = detail or f"the snap {name!r}"
            msg = f"snapd {where} failed on {what}: {e.message}"
            hint = "See `snap changes` and `journalctl -u snapd` on that host."
        return SnapdError(msg, kind=kind, status_code=e.status_code, hint=hint, transient=transient)


def change_progress(change: Mapping[str, Any]) -> tuple[str, float | None]:
    """(message, fraction) for a change: finished tasks count whole, the running one partly.

    The running task's label carries the download percentage, e.g. 'Download snap "k8s"
    (1234) from channel "1.32-classic/stable" 45%'.
    """
    tasks = [t for t in change.get("tasks") or [] if isinstance(t, dict)]
    if not tasks:
        return (str(change.get("summary") or "waiting for snapd"), None)
    total = 0.0
    current: dict[str, Any] | None = None
    current_part = 0.0
    for t in tasks:
        status = t.get("status")
        prog = t.get("progress") or {}
        done, tot = prog.get("done") or 0, prog.get("total") or 0
        if status in _FINISHED_TASK_STATUSES:
            total += 1.0
        elif status == "Doing":
            part = (done / tot) if tot else 0.0
            total += min(max(part, 0.0), 1.0)
            if current is None:
                current, current_part = t, part
    fraction = round(total / len(tasks), 4)
    if current is None:
        return (str(change.get("summary") or "waiting"), fraction)
    label = str(current.get("summary") or (current.get("progress") or {}).get("label") or "working")
    tot = (current.get("progress") or {}).get("total") or 0
    if tot > 1:  # a byte count: a download
        label = f"{label} {int(current_part * 100)}%"
    return (label, fraction)


def change_error(change: Mapping[str, Any]) -> str:
    """The failing task's log line, else the change's err text, in one line."""
    for t in change.get("tasks") or []:
        if t.get("status") == "Error":
            log = [ln for ln in t.get("log") or [] if ln]
            if log:
                # snapd log lines look like "2024-01-01T00:00:00Z ERROR cannot ..."
                text = str(log[-1])
                return text.split(" ERROR ", 1)[-1].strip()
            return str(t.get("summary") or "a task failed")
    err = str(change.get("err") or change.get("status") or "unknown error")
    return " ".join(err.split())


def snap_info(d: Mapping[str, Any]) -> SnapInfo:
    """Our SnapInfo from snapd's snap object."""
    return SnapInfo(
        name=str(d.get("name", "")),
        channel=str(d.get("tracking-channel") or d.get("channel") or ""),
        revision=str(d.get("revision", "")),
        classic=d.get("confinement") == "classic",
    )


class SshCurlTransport(httpx.AsyncBaseTransport):
    """httpx transport for a remote snapd: each request runs `sudo -n curl --unix-socket` over SSH.

    `exec_` runs a command string on the host with stdin bytes and returns (exit code, stdout,
    stderr); `SshConnections.exec_bytes` is that function for real hosts.
    """

    def __init__(
        self,
        exec_: Callable[[str, bytes], Awaitable[tuple[int, bytes, bytes]]],
        *,
        sudo: bool = True,
        socket_path: str = SNAPD_SOCKET,
        curl: str = "curl",
    ) -> None:
        self._exec = exec_
        self._sudo = sudo
        self._socket = socket_path
        self._curl = curl

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        # -w prints the status code after the body on its own line: curl has no other way to
        # give both on stdout. --data-binary @- sends stdin as is (bodies are JSON, never args).
        argv = [
            self._curl,
            "-sS",
            "--unix-socket",
            self._socket,
            "-X",
            request.method,
            "-H",
            "Content-Type: application/json",
            "-w",
            "\\n%{http_code}",
            "--max-time",
            "120",
        ]
        if body:
            argv += ["--data-binary", "@-"]
        argv.append(str(request.url))
        if self._sudo:
            argv = ["sudo", "-n", *argv]
        # The login shell may print text first (.bashrc, motd): the answer is what follows
        # the marker.
        command = f"printf '%s\\n' {shlex.quote(CURL_MARKER)}; {shlex.join(argv)}"
        code, out, err = await self._exec(command, body)
        if code != 0:
            text = (err or out).decode("utf-8", "replace").strip().splitlines()
            last = text[-1] if text else f"exit code {code}"
            if "password is required" in last or "a terminal is required" in last:
                raise BackendError(
                    f"sudo on the remote host needs a password ({last}).",
                    hint="Give the SSH user passwordless sudo (NOPASSWD) on that host.",
                )
            if code == 7:  # curl: failed to connect: snapd down or restarting
                raise httpx.ConnectError(last, request=request)
            raise httpx.TransportError(f"curl over SSH failed: {last}")
        _, _, framed = out.rpartition(CURL_MARKER.encode() + b"\n")
        payload, _, status = framed.rpartition(b"\n")
        try:
            status_code = int(status.strip() or b"0")
        except ValueError:
            raise httpx.TransportError("curl over SSH printed no HTTP status") from None
        return httpx.Response(
            status_code,
            content=payload,
            headers={"Content-Type": "application/json"},
            request=request,
        )


_CONFLICT_TRIES = 3


class SnapdSnapBackend:
    """SnapBackend over snapd's REST API on each host (see the module doc for remote hosts).

    `client_for(host)` gives the SnapdClient of the host named in the answers; the real-mode
    factory (`installer.backends.real`) decides local socket or SSH per host.
    """

    def __init__(self, client_for: Callable[[str], SnapdClient]) -> None:
        self._client_for = client_for
        self._clients: dict[str, SnapdClient] = {}

    def client(self, host: str) -> SnapdClient:
        if host not in self._clients:
            self._clients[host] = self._client_for(host)
        return self._clients[host]

    async def aclose(self) -> None:
        for c in self._clients.values():
            with contextlib.suppress(Exception):
                await c.aclose()
        self._clients.clear()

    async def info(self, host: str, name: str) -> SnapInfo | None:
        d = await self.client(host).get_snap(name)
        return snap_info(d) if d else None

    async def _installed(self, host: str, name: str, action: str) -> SnapInfo:
        info = await self.info(host, name)
        if info is None:
            raise BackendError(
                f"snapd on {host} reported '{action} {name}' done but the snap is not installed.",
                hint=f"Check `snap changes` on {host}.",
            )
        return info

    async def _follow_earlier(self, host: str, name: str, progress: ProgressFn) -> None:
        """Wait for the snap's changes still in progress: a retried step (after a timeout, a
        lost connection, or a conflict) follows the first attempt's change instead of starting
        a second one. How it ended is judged from the snap's state afterwards."""
        c = self.client(host)
        for change in await c.changes_in_progress(name):
            what = f"finish the earlier {change.get('kind') or 'change'} of {name}"
            with contextlib.suppress(SnapdError):
                await c.wait_change(str(change.get("id")), progress, what=what)

    async def _write(
        self, host: str, name: str, progress: ProgressFn, write: Callable[[], Awaitable[Any]]
    ) -> None:
        """One write to the snap, after any change of it still in progress; a
        snap-change-conflict (someone else's change started meanwhile) is followed the same way
        and the write tried again."""
        for attempt in range(_CONFLICT_TRIES):
            await self._follow_earlier(host, name, progress)
            try:
                await write()
                return
            except SnapdError as e:
                if e.kind != "snap-change-conflict" or attempt == _CONFLICT_TRIES - 1:
                    raise

    async def install(
        self, host: str, name: str, channel: str, *, classic: bool, progress: ProgressFn
    ) -> SnapInfo:
        c = self.client(host)

        async def install() -> None:
            await c.snap_action(name, "install", channel=channel, classic=classic,
                                progress=progress)

        try:
            await self._write(host, name, progress, install)
        except SnapdError as e:
            if e.kind != "snap-already-installed":
                raise
            # Installed meanwhile (or by hand): the wanted state, if on the wanted channel.
            current = await self._installed(host, name, "install")
            if not same_channel(current.channel, channel):
                return await self.refresh(host, name, channel, progress=progress)
            return current
        return await self._installed(host, name, "install")

    async def refresh(
        self, host: str, name: str, channel: str, *, progress: ProgressFn
    ) -> SnapInfo:
        c = self.client(host)

        async def refresh() -> None:
            await c.snap_action(name, "refresh", channel=channel, progress=progress)

        try:
            await self._write(host, name, progress, refresh)
        except SnapdError as e:
            if e.kind != "snap-no-update-available":
                raise
        return await self._installed(host, name, "refresh")

    async def revert(self, host: str, name: str, *, progress: ProgressFn) -> SnapInfo:
        c = self.client(host)

        async def revert() -> None:
            await c.snap_action(name, "revert", progress=progress)

        await self._write(host, name, progress, revert)
        return await self._installed(host, name, "revert")

    async def set_config(self, host: str, name: str, values: Mapping[str, object]) -> None:
        c = self.client(host)

        async def configure() -> None:
            await c.set_conf(name, values)

        await self._write(host, name, _no_progress, configure)

    async def get_config(self, host: str, name: str, keys: Sequence[str]) -> dict[str, object]:
        """Values of `keys`; unset keys are absent (snapd answers option-not-found for them,
        and for a multi-key request it fails the whole request, so each key is asked alone)."""
        c = self.client(host)
        out: dict[str, object] = {}
        for key in keys:
            try:
                out.update(await c.get_conf(name, [key]))
            except SnapdError as e:
                if e.kind != "option-not-found":
                    raise
        return out

    async def connect(self, host: str, plug: str, slot: str) -> None:
        """Connect `snap:plug` to `snap:slot` (a slot without a snap is the system's: `:slot`)."""
        plug_snap, plug_name = _split_endpoint(plug, "plug")
        slot_snap, slot_name = _split_endpoint(slot, "slot")
        await self.client(host).connect(plug_snap, plug_name, slot_snap or "core", slot_name)


def _split_endpoint(text: str, what: str) -> tuple[str, str]:
    snap, sep, name = text.partition(":")
    if not sep or not name:
        raise BackendError(
            f"The interface {what} {text!r} is not of the form snap:{what}.",
            hint=f"Write it as e.g. openstack-hypervisor:{what}-name.",
        )
    return snap, name


def _ssh_transport(
    connections: SshConnections, host: str, sudo: bool, socket_path: str = SNAPD_SOCKET
) -> SshCurlTransport:
    async def exec_(command: str, stdin: bytes) -> tuple[int, bytes, bytes]:
        return await connections.exec_bytes(host, command, stdin)

    return SshCurlTransport(exec_, sudo=sudo, socket_path=socket_path)


def remote_client(
    connections: SshConnections,
    host: str,
    *,
    sudo: bool,
    socket_path: str = SNAPD_SOCKET,
    **kw: Any,
) -> SnapdClient:
    """A SnapdClient for a remote host, through its reused SSH connection.

    `socket_path` is snapd's socket on that host (the standard one unless snapd is relocated)."""
    return SnapdClient(
        _ssh_transport(connections, host, sudo, socket_path), where=f"on {host}", host=host, **kw
    )


__all__ = [
    "SNAPD_SOCKET",
    "SnapdClient",
    "SnapdError",
    "SnapdSnapBackend",
    "SshCurlTransport",
    "change_error",
    "change_progress",
    "normalize_channel",
    "remote_client",
    "same_channel",
    "snap_info",
]
