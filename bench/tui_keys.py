"""Key-press latency on the Hosts and Progress screens with 500 hosts (target <= 50 ms).

Two figures per screen. "app" is the app's own time: from the moment the App receives the Key
event to the end of the first frame composed after it (App._display, which the headless
driver still calls with the compositor update): handling, bindings, widget updates, layout
and rendering, plus the wait for the screen's next update tick. "pilot" is Pilot's press +
pause round trip, which adds 60-100 ms of its own waiting on these machines and is shown only
to compare with earlier reports."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from pathlib import Path
from typing import Any

from installer.events import PlanStarted, StepFinished, StepLog, StepProgress, StepStarted
from installer.interactive.install import Session
from installer.interactive.probing import ProbedHost
from installer.lab import default_facts
from installer.pipeline import RunSettings
from screens.app import create_app

HOSTS = int(os.environ.get("BENCH_HOSTS", "500"))


class KeyClock:
    """Times each Key event from its dispatch in the App to the end of the next frame."""

    def __init__(self, app: Any) -> None:
        from textual import events

        self.to_frame: list[float] = []  # dispatch -> end of the next composed frame
        self.no_frame = 0  # keys whose handling changed nothing on screen
        self._t0: float | None = None
        self._keys: set[tuple[str, float]] = set()
        on_event, display = app.on_event, app._display

        async def timed_on_event(event: Any) -> None:
            # A key can pass through App.on_event more than once (the App forwards what it
            # does not bind to the screen): time it from its first arrival only.
            ident = (event.key, event.time) if isinstance(event, events.Key) else None
            if ident is None or ident in self._keys:
                await on_event(event)
                return
            self._keys.add(ident)
            if self._t0 is not None:
                self.no_frame += 1
            self._t0 = time.perf_counter()
            await on_event(event)

        def timed_display(screen: Any, renderable: Any) -> None:
            display(screen, renderable)
            if self._t0 is not None and renderable is not None:
                self.to_frame.append((time.perf_counter() - self._t0) * 1000)
                self._t0 = None

        app.on_event = timed_on_event
        app._display = timed_display


def session_with_hosts() -> Session:
    s = Session(RunSettings(dry_run=True, state_dir=Path("/tmp/bench-tui")))
    for i in range(HOSTS):
        address = f"10.20.{i // 250}.{i % 250 + 2}"
        entry = ProbedHost(target=f"ubuntu@{address}", address=address, ssh_user="ubuntu",
                           state="ready", facts=default_facts(f"node{i}", address))
        s.hosts[entry.target] = entry
    return s


async def key_latency(pilot: Any, keys: list[str]) -> list[float]:
    times = []
    for key in keys:
        t = time.perf_counter()
        await pilot.press(key)
        await pilot.pause()  # until the screen has processed it and refreshed
        times.append((time.perf_counter() - t) * 1000)
    return times


async def hosts_screen() -> tuple[list[float], KeyClock]:
    s = session_with_hosts()
    from installer.interactive.probing import LOCAL

    s.hosts[LOCAL] = ProbedHost(target=LOCAL, state="ready",
                                facts=default_facts("local", "10.20.9.1"))
    app = create_app(s, start="hosts")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.screen.query_one("#hosts").focus()
        await pilot.pause()
        clock = KeyClock(app)
        lat = await key_latency(pilot, ["down"] * 50 + ["pagedown"] * 5 + ["up"] * 20)
        return lat, clock


async def progress_screen() -> tuple[list[float], float, KeyClock]:
    from screens.progress import ProgressScreen

    app = create_app(Session(RunSettings(dry_run=True, state_dir=Path("/tmp/bench-tui"))))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = ProgressScreen(autostart=False)
        await app.switch_screen(screen)
        await pilot.pause()
        steps = [f"snap.install:openstack-hypervisor@node{i}" for i in range(HOSTS)]
        screen.set_totals({f"node{i}": 2 for i in range(HOSTS)})
        t = time.perf_counter()
        screen.feed(PlanStarted(run_id="b", steps=len(steps) * 2))
        for sid in steps:
            screen.feed(StepStarted(step=sid, title="Install", host=sid.split("@")[1]))
            for j in range(20):
                screen.feed(StepProgress(step=sid, message=f"{j}", fraction=j / 20))
                screen.feed(StepLog(step=sid, line=f"line {j} of {sid}"))
        feed = time.perf_counter() - t
        screen.flush()
        await pilot.pause()
        clock = KeyClock(app)
        lat = await key_latency(pilot, ["down"] * 50 + ["pagedown"] * 5)
        # The per-host table too (Tab moves to it).
        lat += await key_latency(pilot, ["tab"] + ["down"] * 30 + ["pagedown"] * 5)
        # Keys while events keep arriving: the rate a busy 500-host run produces.
        for k, sid in enumerate(steps[:100]):
            screen.feed(StepFinished(step=sid, outcome="done"))
            if k % 10 == 0:
                lat += await key_latency(pilot, ["up"])
        return lat, feed / (len(steps) * 41) * 1e6, clock


def report(name: str, lat: list[float]) -> None:
    if not lat:
        print(f"{name}: no samples")
        return
    lat = sorted(lat)
    p95 = lat[int(len(lat) * 0.95) - 1]
    print(f"{name}: {len(lat)} keys, median {statistics.median(lat):.1f} ms, p95 {p95:.1f} ms, "
          f"max {lat[-1]:.1f} ms; target <= 50 ms")


def main() -> None:
    global HOSTS
    results = {}
    for n in (5, HOSTS):
        HOSTS = n
        hosts, hosts_clock = asyncio.run(hosts_screen())
        progress, per_event, progress_clock = asyncio.run(progress_screen())
        results[n] = (hosts, hosts_clock, progress, progress_clock, per_event)
    big = results[HOSTS]
    base = results[5]
    print("App's own time per key, dispatch -> end of the next frame (target <= 50 ms):")
    report(f"  Hosts screen, {HOSTS + 1} hosts", big[1].to_frame)
    report(f"  Progress screen, {HOSTS} hosts, events arriving", big[3].to_frame)
    report("  Hosts screen, 6 hosts", base[1].to_frame)
    report("  Progress screen, 5 hosts", base[3].to_frame)
    print(f"Keys that changed nothing on screen: Hosts {big[1].no_frame}, "
          f"Progress {big[3].no_frame}")
    print("Pilot press+pause round trip (includes Pilot's own waiting; for comparison):")
    report(f"  Hosts screen, {HOSTS + 1} hosts", big[0])
    report(f"  Progress screen, {HOSTS} hosts", big[2])
    print(f"Progress screen: recording one event costs {big[4]:.1f} µs")


if __name__ == "__main__":
    main()
