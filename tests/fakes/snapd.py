"""A fake snapd: Python's http.server on a real unix socket, speaking snapd's REST envelope.

It keeps a small state (installed snaps, a store catalogue, changes, config, connections) and
answers the calls the installer makes:

  GET  /v2/snaps                 GET  /v2/snaps/{name}          POST /v2/snaps/{name}
  GET  /v2/snaps/{name}/conf     PUT  /v2/snaps/{name}/conf     POST /v2/interfaces
  GET  /v2/changes/{id}

Writes answer ``type: async`` with a change id; the change advances one step per poll (a
download task whose progress goes 0 -> total bytes over `download_polls` polls), so clients see
real progress. `conflicts[name] = n` makes the next n writes on that snap fail with
``snap-change-conflict``; `fail_change[name] = "message"` makes its next change end in Error.

Installing a snap can also put its commands on the host, as snapd's /snap/bin wrappers and
store-granted aliases do: `state.bin_dir` is that directory and `state.commands[name]` writes
the commands of snap `name` into it (e.g. the openstack snap's `openstack` client).
"""

from __future__ import annotations

import json
import os
import socketserver
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

STATUS_TEXT = {
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    404: "Not Found",
    409: "Conflict",
    401: "Unauthorized",
    500: "Internal Server Error",
}


@dataclass
class StoreSnap:
    revision: int
    confinement: str = "strict"  # or classic
    channels: tuple[str, ...] = ("latest/stable",)
    size: int = 50_000_000


@dataclass
class FakeChange:
    id: str
    kind: str
    summary: str
    snap: str
    apply: Any  # callable run when the change completes
    download: int = 0  # bytes; 0 = no download task
    polls_needed: int = 3
    polls: int = 0
    error: str | None = None

    def envelope(self) -> dict[str, Any]:
        step = min(self.polls, self.polls_needed)
        ready = step >= self.polls_needed
        tasks: list[dict[str, Any]] = []
        if self.download:
            done = self.download if ready else self.download * step // self.polls_needed
            tasks.append(
                {
                    "id": f"{self.id}1",
                    "kind": "download-snap",
                    "summary": f'Download snap "{self.snap}" from channel "stable"',
                    "status": "Done" if done >= self.download else "Doing",
                    "progress": {"label": self.snap, "done": done, "total": self.download},
                }
            )
        main_status = "Doing"
        if ready:
            main_status = "Error" if self.error else "Done"
        elif self.download:
            main_status = "Do"
        main = {
            "id": f"{self.id}2",
            "kind": self.kind,
            "summary": self.summary,
            "status": main_status,
            "progress": {"label": "", "done": 1 if ready else 0, "total": 1},
        }
        if ready and self.error:
            main["log"] = [f"2025-01-01T00:00:00Z ERROR {self.error}"]
        tasks.append(main)
        result: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "summary": self.summary,
            "status": main_status if ready else "Doing",
            "ready": ready,
            "tasks": tasks,
            "spawn-time": "2025-01-01T00:00:00Z",
        }
        if ready and self.error:
            result["err"] = f"cannot perform the following tasks:\n- {self.summary} ({self.error})"
        return result


@dataclass
class SnapdState:
    store: dict[str, StoreSnap] = field(default_factory=dict)
    installed: dict[str, dict[str, Any]] = field(default_factory=dict)
    conf: dict[str, dict[str, Any]] = field(default_factory=dict)
    connections: set[tuple[str, str, str, str]] = field(default_factory=set)
    changes: dict[str, FakeChange] = field(default_factory=dict)
    conflicts: dict[str, int] = field(default_factory=dict)
    fail_change: dict[str, str] = field(default_factory=dict)
    requests: list[tuple[str, str, Any]] = field(default_factory=list)  # (method, path, body)
    previous: dict[str, dict[str, Any]] = field(default_factory=dict)  # for revert
    download_polls: int = 3
    bin_dir: Path | None = None  # this host's /snap/bin
    commands: dict[str, Callable[[Path], object]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_id: int = 1


def _full_channel(channel: str) -> str:
    parts = channel.split("/")
    if len(parts) == 1:
        return f"latest/{channel}" if channel in ("stable", "candidate", "beta", "edge") else (
            f"{channel}/stable"
        )
    return channel


def _snap_obj(name: str, channel: str, revision: int, confinement: str) -> dict[str, Any]:
    return {
        "id": f"id-{name}",
        "name": name,
        "type": "app",
        "version": "1.0",
        "revision": str(revision),
        "channel": channel.split("/")[-1],
        "tracking-channel": channel,
        "confinement": confinement,
        "status": "active",
        "install-date": "2025-01-01T00:00:00Z",
        "devmode": False,
    }


_MISSING = object()


def _conf_get(conf: dict[str, Any], key: str) -> Any:
    """snapd's dotted keys address nested options: `network.external-nic`."""
    node: Any = conf
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _conf_set(conf: dict[str, Any], key: str, value: Any) -> None:
    """Set a dotted key (creating the nested maps); None unsets it, as `snap unset` does."""
    *parents, leaf = key.split(".")
    node = conf
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    if value is None:
        node.pop(leaf, None)
    else:
        node[leaf] = value


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _UnixHTTPServer

    # http.server logs the client address; a unix socket peer has none (PITFALLS).
    def address_string(self) -> str:
        return "unix"

    def log_message(self, format: str, *args: Any) -> None:
        del format, args  # quiet tests

    def _send(self, code: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _sync(self, result: Any) -> None:
        self._send(200, {"type": "sync", "status-code": 200, "status": "OK", "result": result})

    def _async(self, change: str) -> None:
        self._send(
            202,
            {
                "type": "async",
                "status-code": 202,
                "status": "Accepted",
                "result": None,
                "change": change,
            },
        )

    def _error(self, code: int, message: str, kind: str = "", value: Any = None) -> None:
        result: dict[str, Any] = {"message": message}
        if kind:
            result["kind"] = kind
        if value is not None:
            result["value"] = value
        self._send(
            code,
            {
                "type": "error",
                "status-code": code,
                "status": STATUS_TEXT.get(code, ""),
                "result": result,
            },
        )

    def _body(self) -> Any:
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        return json.loads(raw) if raw else None

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_PUT(self) -> None:
        self._route("PUT")

    def _route(self, method: str) -> None:
        st = self.server.state
        url = urlsplit(self.path)
        parts = [p for p in url.path.split("/") if p]
        body = self._body() if method != "GET" else None
        with st.lock:
            st.requests.append((method, url.path, body))
            try:
                self._dispatch(st, method, parts, body, parse_qs(url.query))
            except Exception as e:  # a bug in the fake: answer like snapd would, loudly
                self._error(500, f"fake snapd error: {e!r}")

    def _new_change(
        self, st: SnapdState, kind: str, summary: str, snap: str, apply: Any, download: int = 0
    ) -> str:
        cid = str(st.next_id)
        st.next_id += 1
        st.changes[cid] = FakeChange(
            cid,
            kind,
            summary,
            snap,
            apply,
            download=download,
            polls_needed=st.download_polls if download else 1,
            error=st.fail_change.pop(snap, None),
        )
        return cid

    def _dispatch(
        self, st: SnapdState, method: str, parts: list[str], body: Any, query: dict[str, list[str]]
    ) -> None:
        if parts[:1] != ["v2"]:
            return self._error(404, "not found")
        parts = parts[1:]
        if parts == ["snaps"] and method == "GET":
            return self._sync(list(st.installed.values()))
        if len(parts) == 2 and parts[0] == "snaps":
            name = parts[1]
            if method == "GET":
                if name not in st.installed:
                    return self._error(404, "snap not installed", "snap-not-found", name)
                return self._sync(st.installed[name])
            if method == "POST":
                return self._snap_action(st, name, body or {})
        if len(parts) == 3 and parts[0] == "snaps" and parts[2] == "conf":
            name = parts[1]
            # `system` is snapd's own pseudo-snap (`snap set system proxy.http=…`), always there.
            if name not in st.installed and name != "system":
                return self._error(
                    404, f'snap "{name}" is not installed', "snap-not-installed", name
                )
            if method == "GET":
                conf = st.conf.get(name, {})
                if "keys" not in query:
                    return self._sync(conf)
                found: dict[str, Any] = {}
                for key in query["keys"][0].split(","):
                    value = _conf_get(conf, key)
                    if value is _MISSING:
                        return self._error(
                            400,
                            f'snap "{name}" has no "{key}" configuration option',
                            "option-not-found",
                        )
                    found[key] = value
                return self._sync(found)
            if method == "PUT":
                if self._conflict(st, name):
                    return None
                values = dict(body or {})

                def apply() -> None:
                    conf = st.conf.setdefault(name, {})
                    for key, value in values.items():
                        _conf_set(conf, key, value)

                return self._async(
                    self._new_change(
                        st, "configure-snap", f'Change configuration of "{name}" snap', name, apply
                    )
                )
        if parts == ["interfaces"] and method == "POST":
            plug, slot = body["plugs"][0], body["slots"][0]
            conn: tuple[str, str, str, str] = (
                plug["snap"],
                plug["plug"],
                slot["snap"],
                slot["slot"],
            )
            if plug["snap"] not in st.installed:
                return self._error(400, f'snap "{plug["snap"]}" has no plug named "{plug["plug"]}"')
            if conn in st.connections:
                return self._error(400, "interfaces unchanged", "interfaces-unchanged")

            def apply_connect() -> None:
                st.connections.add(conn)

            return self._async(
                self._new_change(
                    st,
                    "connect-snap",
                    f"Connect {plug['snap']}:{plug['plug']} to {slot['snap']}:{slot['slot']}",
                    plug["snap"],
                    apply_connect,
                )
            )
        if parts == ["changes"] and method == "GET":
            # As snapd: select=in-progress|ready|all (default in-progress), for=SNAP. Listing
            # does not advance a change (only polling it by id does, in this fake).
            select = (query.get("select") or ["in-progress"])[0]
            wanted = query.get("for")
            for_snap = wanted[0] if wanted else None
            listed = []
            for ch in st.changes.values():
                env = ch.envelope()
                if for_snap is not None and ch.snap != for_snap:
                    continue
                if select == "all" or (select == "ready") == bool(env["ready"]):
                    listed.append(env)
            return self._sync(listed)
        if len(parts) == 2 and parts[0] == "changes" and method == "GET":
            change = st.changes.get(parts[1])
            if change is None:
                return self._error(404, f'cannot find change with id "{parts[1]}"')
            ch = change
            ch.polls += 1
            env = ch.envelope()
            if env["ready"] and ch.apply is not None:
                if not ch.error:
                    ch.apply()
                ch.apply = None
            return self._sync(env)
        return self._error(404, "not found")

    def _conflict(self, st: SnapdState, name: str) -> bool:
        running = any(ch.snap == name and not ch.envelope()["ready"] for ch in st.changes.values())
        if running or st.conflicts.get(name, 0) > 0:
            if not running:
                st.conflicts[name] -= 1
            self._error(
                409,
                f'snap "{name}" has "install-snap" change in progress',
                "snap-change-conflict",
                {"change-kind": "install-snap", "snap-name": name},
            )
            return True
        return False

    def _snap_action(self, st: SnapdState, name: str, body: dict[str, Any]) -> None:
        action = body.get("action")
        # snapd reports channels in full: "stable" is "latest/stable".
        channel = _full_channel(body.get("channel") or "latest/stable")
        if self._conflict(st, name):
            return
        if action == "install":
            if name in st.installed:
                return self._error(
                    400, f'snap "{name}" is already installed', "snap-already-installed", name
                )
            store = st.store.get(name)
            if store is None:
                return self._error(404, f'snap "{name}" not found', "snap-not-found", name)
            if channel not in store.channels:
                return self._error(
                    404,
                    f'no snap revision on specified channel "{channel}"',
                    "snap-channel-not-available",
                    name,
                )
            if store.confinement == "classic" and not body.get("classic"):
                return self._error(
                    400, f'snap "{name}" requires classic confinement', "snap-needs-classic", name
                )

            found = store

            def apply_install() -> None:
                st.installed[name] = _snap_obj(name, channel, found.revision, found.confinement)
                write_commands = st.commands.get(name)
                if write_commands is not None and st.bin_dir is not None:
                    write_commands(st.bin_dir)

            return self._async(
                self._new_change(
                    st,
                    "install-snap",
                    f'Install "{name}" snap',
                    name,
                    apply_install,
                    download=store.size,
                )
            )
        if action == "refresh":
            if name not in st.installed:
                return self._error(
                    404, f'snap "{name}" is not installed', "snap-not-installed", name
                )
            store = st.store[name]
            current = st.installed[name]
            if current["tracking-channel"] == channel and current["revision"] == str(
                store.revision
            ):
                return self._error(
                    400, f'snap "{name}" has no updates available', "snap-no-update-available", name
                )
            if channel not in store.channels:
                return self._error(
                    404,
                    f'no snap revision on specified channel "{channel}"',
                    "snap-channel-not-available",
                    name,
                )

            def apply_refresh() -> None:
                st.previous[name] = dict(current)
                st.installed[name] = _snap_obj(name, channel, store.revision, store.confinement)

            return self._async(
                self._new_change(
                    st,
                    "refresh-snap",
                    f'Refresh "{name}" snap',
                    name,
                    apply_refresh,
                    download=store.size,
                )
            )
        if action == "revert":
            if name not in st.installed:
                return self._error(
                    404, f'snap "{name}" is not installed', "snap-not-installed", name
                )
            if name not in st.previous:
                return self._error(400, f'no revision to revert to for "{name}"')

            def apply_revert() -> None:
                st.installed[name] = st.previous.pop(name)

            return self._async(
                self._new_change(st, "revert-snap", f'Revert "{name}" snap', name, apply_revert)
            )
        return self._error(400, f'unknown action "{action}"')


class _UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    state: SnapdState


class FakeSnapd:
    """Start with `FakeSnapd(path).start()`; `.state` is the snapd state; `.stop()` at the end."""

    def __init__(self, socket_path: str, state: SnapdState | None = None) -> None:
        self.socket_path = socket_path
        self.state = state or SnapdState()
        self._server: _UnixHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> FakeSnapd:
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)
        self._server = _UnixHTTPServer(self.socket_path, _Handler)
        self._server.state = self.state
        self._thread = threading.Thread(
            target=self._server.serve_forever, daemon=True, kwargs={"poll_interval": 0.05}
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)
