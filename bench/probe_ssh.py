"""100 hosts probed over SSH against asyncssh servers in this process (target <= 5 s, 2 cores).

    python bench/probe_ssh.py [HOSTS]

Two figures: "canned" hosts answer the probe script with recorded facts (the SSH and
concurrency cost alone: handshakes, key checks, sending the ~40 kB script, parsing and
validating the facts); "python" hosts really run the script in a fresh python3 each, on this
same machine, so 100 probe processes share its cores with the client and the servers.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncssh

from probes.facts import HostFacts
from probes.local import probe_local
from probes.remote import probe_hosts
from tests.probes.sshfake import start_host, write_known_hosts


async def run(count: int, mode: str) -> None:
    key = asyncssh.generate_private_key("ssh-ed25519")
    reply = probe_local().model_dump_json().encode()
    hosts = [await start_host(key, mode, reply=reply) for _ in range(count)]
    with tempfile.TemporaryDirectory() as tmp:
        kh = write_known_hosts(Path(tmp) / "known_hosts", *hosts)
        t = time.perf_counter()
        results = await probe_hosts(
            [h.target for h in hosts], known_hosts=kh, client_keys=[key], concurrency=32
        )
        wall = time.perf_counter() - t
    ok = sum(isinstance(r, HostFacts) for r in results.values())
    for h in hosts:
        h.server.close()
    print(f"{count} hosts, {mode:>6} probe, concurrency 32: {wall:.2f} s wall, {ok} answered")


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    asyncio.run(run(n, "canned"))
    asyncio.run(run(n, "python"))
