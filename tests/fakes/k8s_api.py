"""A fake Kubernetes API server: http.server on 127.0.0.1, answering the paths the installer uses.

  GET   /api/v1/nodes                                          NodeList
  GET   /api/v1/namespaces/{ns}/pods                           PodList
  GET   /api/v1/namespaces/{ns}/events                         EventList
  GET   /apis/metallb.io/v1beta1/namespaces/{ns}/{plural}/{name}
  POST  /apis/metallb.io/v1beta1/namespaces/{ns}/{plural}
  PATCH /apis/metallb.io/v1beta1/namespaces/{ns}/{plural}/{name}   (merge patch)

Requests without ``Authorization: Bearer <token>`` get 401, like a real API server. Errors are
``Status`` objects. Nodes become Ready after `ready_after[name]` node listings (0 = at once).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PLURALS = {"ipaddresspools": "IPAddressPool", "l2advertisements": "L2Advertisement"}


@dataclass
class K8sState:
    token: str = "test-token"
    nodes: dict[str, int] = field(default_factory=dict)  # name -> listings until Ready
    node_lists: int = 0
    pods: dict[str, dict[str, str]] = field(default_factory=dict)  # ns -> pod -> phase[:ready]
    # ns -> Event objects without metadata (involvedObject, type, reason, message, ...)
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    objects: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # method, path, ctype
    fail_next: int = 0  # answer the next N requests with 503
    lock: threading.Lock = field(default_factory=threading.Lock)


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        del format, args

    def _send(self, code: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_PATCH(self) -> None:
        self._route("PATCH")

    def _route(self, method: str) -> None:
        st = self.server.state
        n = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(n)) if n else None
        path = self.path.split("?")[0]
        with st.lock:
            st.requests.append((method, path, self.headers.get("Content-Type") or ""))
            if self.headers.get("Authorization") != f"Bearer {st.token}":
                return self._send(401, _status(401, "Unauthorized", "Unauthorized"))
            if st.fail_next > 0:
                st.fail_next -= 1
                return self._send(503, _status(503, "ServiceUnavailable", "etcd is starting"))
            code, payload = self._dispatch(st, method, [p for p in path.split("/") if p], body)
        self._send(code, payload)

    def _dispatch(
        self, st: K8sState, method: str, parts: list[str], body: Any
    ) -> tuple[int, dict[str, Any]]:
        if parts == ["api", "v1", "nodes"] and method == "GET":
            st.node_lists += 1
            items = []
            for name, after in st.nodes.items():
                ready = st.node_lists > after
                items.append(
                    {
                        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
                        "status": {
                            "conditions": [
                                {"type": "MemoryPressure", "status": "False"},
                                {
                                    "type": "Ready",
                                    "status": "True" if ready else "False",
                                    "reason": "KubeletReady" if ready else "KubeletNotReady",
                                },
                            ]
                        },
                    }
                )
            return 200, {"kind": "NodeList", "apiVersion": "v1", "metadata": {}, "items": items}
        if len(parts) == 5 and parts[:3] == ["api", "v1", "namespaces"] and parts[4] == "pods":
            items = []
            for name, spec in st.pods.get(parts[3], {}).items():
                phase, _, readiness = spec.partition(":")
                items.append(
                    {
                        "metadata": {"name": name, "namespace": parts[3]},
                        "status": {
                            "phase": phase,
                            "containerStatuses": [
                                {
                                    "name": "c",
                                    "ready": readiness == "ready",
                                    "restartCount": 0,
                                    "image": "i",
                                    "imageID": "",
                                    "containerID": "",
                                }
                            ],
                        },
                    }
                )
            return 200, {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items}
        if len(parts) == 5 and parts[:3] == ["api", "v1", "namespaces"] and parts[4] == "events":
            items = [
                {"metadata": {"name": f"e{i}", "namespace": parts[3]}, **ev}
                for i, ev in enumerate(st.events.get(parts[3], []))
            ]
            return 200, {"kind": "EventList", "apiVersion": "v1", "metadata": {}, "items": items}
        if (
            parts[:3] == ["apis", "metallb.io", "v1beta1"]
            and len(parts) >= 6
            and parts[3] == "namespaces"
            and parts[5] in PLURALS
        ):
            ns, plural = parts[4], parts[5]
            kind = PLURALS[plural]
            if method == "POST" and len(parts) == 6:
                name = body["metadata"]["name"]
                if body.get("kind") != kind or body.get("apiVersion") != "metallb.io/v1beta1":
                    return 400, _status(400, "BadRequest", "wrong kind or apiVersion")
                if (plural, ns, name) in st.objects:
                    return 409, _status(409, "AlreadyExists", f'{plural} "{name}" already exists')
                obj = dict(body)
                obj["metadata"] = {**body["metadata"], "namespace": ns, "resourceVersion": "1"}
                st.objects[(plural, ns, name)] = obj
                return 201, obj
            if len(parts) == 7:
                key = (plural, ns, parts[6])
                if key not in st.objects:
                    return 404, _status(
                        404, "NotFound", f'{plural}.metallb.io "{parts[6]}" not found'
                    )
                obj = st.objects[key]
                if method == "GET":
                    return 200, obj
                if method == "PATCH":
                    if self.headers.get("Content-Type") != "application/merge-patch+json":
                        return 415, _status(415, "UnsupportedMediaType", "merge patch only")
                    obj["spec"] = {**obj.get("spec", {}), **(body.get("spec") or {})}
                    obj["metadata"]["resourceVersion"] = str(
                        int(obj["metadata"]["resourceVersion"]) + 1
                    )
                    return 200, obj
        return 404, _status(404, "NotFound", "the server could not find the requested resource")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: K8sState


class FakeK8sApi:
    def __init__(self, state: K8sState | None = None) -> None:
        self.state = state or K8sState()
        self._server: _Server | None = None

    def start(self) -> FakeK8sApi:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state = self.state
        threading.Thread(
            target=self._server.serve_forever, daemon=True, kwargs={"poll_interval": 0.05}
        ).start()
        return self

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def write_kubeconfig(self, path: Path, token: str | None = None) -> Path:
        """A kubeconfig with a token user, as lightkube needs (PITFALLS)."""
        path.write_text(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "k8s", "cluster": {"server": self.url}}],
                    "users": [{"name": "admin", "user": {"token": token or self.state.token}}],
                    "contexts": [{"name": "k8s", "context": {"cluster": "k8s", "user": "admin"}}],
                    "current-context": "k8s",
                }
            )
        )
        return path

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
