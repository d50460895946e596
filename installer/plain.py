"""The plain line mode: the guided installer's questions, one line at a time.

For serial consoles and `TERM=dumb` (`sunbeam-install --plain`, or automatically when the
terminal cannot run the text UI). It drives the same `Session` as the TUI, asks the same
questions in the same order, shows the same findings and the same progress as plain lines, and
produces the same answers. questionary draws its prompts with escape sequences even on a dumb
terminal (PITFALLS), so a truly dumb terminal or a pipe gets `input()` prompts instead.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

from installer.events import (
    Event,
    PlanFinished,
    PlanStarted,
    StepFinished,
    StepStarted,
    run_title,
)
from installer.interactive.fields import check_address_list, check_field, role_rules
from installer.interactive.install import Session
from installer.interactive.notices import Notice, SessionError, has_errors
from installer.interactive.probing import UNADDRESSED, ProbedHost, management_nic
from installer.pipeline.settings import RunSettings
from installer.text import neutralise, one_line

if TYPE_CHECKING:
    from installer.pipeline.follow import RunControl

Check = Callable[[str], "str | None"]
GIB = 1024**3


@dataclass(frozen=True)
class Choice:
    title: str
    value: str
    checked: bool = False
    disabled: str | None = None  # why it cannot be chosen


class Prompter(Protocol):
    def say(self, line: str = "") -> None: ...
    def text(self, question: str, default: str = "", check: Check | None = None) -> str: ...
    def confirm(self, question: str, default: bool = True) -> bool: ...
    def select(self, question: str, choices: list[Choice], default: str | None = None) -> str: ...
    def checkbox(self, question: str, choices: list[Choice]) -> list[str]: ...


class LinePrompter:
    """input()-style prompts: no escape sequences at all (dumb terminals, serial lines, pipes)."""

    def __init__(self, stdin: IO[str] | None = None, stdout: IO[str] | None = None) -> None:
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout

    def say(self, line: str = "") -> None:
        # Lines name NICs, disks and findings as hosts report them: control characters escaped.
        print(neutralise(line), file=self.stdout, flush=True)

    def _read(self, prompt: str) -> str:
        self.stdout.write(neutralise(prompt))
        self.stdout.flush()
        line = self.stdin.readline()
        if not line:  # end of input: the operator left; never loop forever on a closed pipe
            raise EOFError("no more input")
        return line.rstrip("\r\n")

    def text(self, question: str, default: str = "", check: Check | None = None) -> str:
        while True:
            shown = f" [{default}]" if default else ""
            value = self._read(f"{question}{shown}: ").strip() or default
            problem = check(value) if check else None
            if not problem:
                return value
            self.say(f"  {problem}")

    def confirm(self, question: str, default: bool = True) -> bool:
        while True:
            value = self._read(f"{question} [{'Y/n' if default else 'y/N'}]: ").strip().lower()
            if not value:
                return default
            if value in ("y", "yes"):
                return True
            if value in ("n", "no"):
                return False
            self.say("  Answer y or n.")

    def select(self, question: str, choices: list[Choice], default: str | None = None) -> str:
        self.say(question)
        for i, c in enumerate(choices, 1):
            self.say(f"  {i}) {c.title}")
        default = default or choices[0].value
        while True:
            value = self._read(f"Choose 1-{len(choices)} [{default}]: ").strip()
            if not value:
                return default
            if value.isdigit() and 1 <= int(value) <= len(choices):
                return choices[int(value) - 1].value
            match = [c.value for c in choices if c.value == value]
            if match:
                return match[0]
            self.say(f"  {value!r} is not one of the choices; give its number.")

    def checkbox(self, question: str, choices: list[Choice]) -> list[str]:
        self.say(question)
        for i, c in enumerate(choices, 1):
            mark = "-" if c.disabled else ("x" if c.checked else " ")
            why = f"  ({c.disabled})" if c.disabled else ""
            self.say(f"  {i}) [{mark}] {c.title}{why}")
        current = [c.value for c in choices if c.checked]
        while True:
            value = self._read(
                "Numbers to select, comma-separated (Enter keeps [x], - for none): "
            ).strip()
            if not value:
                return current
            if value == "-":
                return []
            picked: list[str] = []
            problem = None
            for part in value.replace(" ", ",").split(","):
                if not part:
                    continue
                if not part.isdigit() or not 1 <= int(part) <= len(choices):
                    problem = f"{part!r} is not a number from 1 to {len(choices)}."
                    break
                c = choices[int(part) - 1]
                if c.disabled:
                    problem = f"{c.title} cannot be chosen: {c.disabled}"
                    break
                picked.append(c.value)
            if problem is None:
                return picked
            self.say(f"  {problem}")


class QuestionaryPrompter:
    """questionary prompts (arrow keys, space to select) on a terminal that can draw them.

    `input`/`output` are prompt_toolkit objects; tests pass a pipe input. unsafe_ask() lets
    Ctrl+C through as KeyboardInterrupt (ask() would swallow it and return None)."""

    def __init__(self, *, input: Any = None, output: Any = None,
                 stdout: IO[str] | None = None) -> None:
        self.kwargs: dict[str, Any] = {}
        if input is not None:
            self.kwargs["input"] = input
        if output is not None:
            self.kwargs["output"] = output
        self.stdout = stdout or sys.stdout

    def say(self, line: str = "") -> None:
        # Lines name NICs, disks and findings as hosts report them: control characters escaped.
        print(neutralise(line), file=self.stdout, flush=True)

    def text(self, question: str, default: str = "", check: Check | None = None) -> str:
        import questionary

        def validate(value: str) -> bool | str:
            problem = check(value) if check else None
            return problem or True

        answer = questionary.text(question, default=default, validate=validate,
                                  **self.kwargs).unsafe_ask()
        return str(answer).strip()

    def confirm(self, question: str, default: bool = True) -> bool:
        import questionary

        return bool(questionary.confirm(question, default=default, **self.kwargs).unsafe_ask())

    def _unavailable(self, choices: list[Choice]) -> str | None:
        """Say why each unavailable choice cannot be chosen, whole and wrapped, before the
        prompt: prompt_toolkit cuts a choice's line at the terminal's width ("It holds the root
        filesy"). The choices themselves then point here."""
        from installer.render.console import terminal_width, wrap_line

        width = min(terminal_width(self.stdout) or 80, 80)
        for c in choices:
            if c.disabled:
                for part in wrap_line(f"  {one_line(c.title)}: {c.disabled}", width, indent=2):
                    self.say(part)
        return "cannot be chosen, see above"

    def select(self, question: str, choices: list[Choice], default: str | None = None) -> str:
        import questionary

        why = self._unavailable(choices)
        qs = [questionary.Choice(one_line(c.title), value=c.value,
                                 disabled=why if c.disabled else None)
              for c in choices]
        return str(questionary.select(question, choices=qs, default=default,
                                      **self.kwargs).unsafe_ask())

    def checkbox(self, question: str, choices: list[Choice]) -> list[str]:
        import questionary

        why = self._unavailable(choices)
        qs = [questionary.Choice(one_line(c.title), value=c.value, checked=c.checked,
                                 disabled=why if c.disabled else None)
              for c in choices]
        return [str(v) for v in questionary.checkbox(question, choices=qs,
                                                     **self.kwargs).unsafe_ask()]


# --------------------------------------------------------------------------------------------
# The interview: the TUI's screens as questions.


def host_line(entry: ProbedHost) -> str:
    """The Hosts table's row as one line."""
    where = entry.address or "this host"
    if entry.state == "failed" or entry.facts is None:
        return f"  {entry.name} ({where}): failed: {entry.error}"
    f = entry.facts
    eligible = [d for d in f.disks if d.osd_eligible]
    warn = "" if f.cpu.virtualization == "kvm" else f"  warning: {f.cpu.virtualization}, no KVM"
    return (f"  {f.hostname} ({where}): {f.cpu.threads} CPUs {f.cpu.virtualization}, "
            f"{f.memory.total_bytes / GIB:.0f} GiB RAM, {len(eligible)} free disks, "
            f"{sum(n.kind in ('physical', 'bond') for n in f.nics)} NICs{warn}")


def ask_hosts(session: Session, p: Prompter) -> None:
    p.say("== Hosts ==")
    # This machine when it is one of the hosts, then the answers file's hosts.
    for target in session.first_targets():
        p.say(host_line(asyncio.run(session.retry(target))))
    for entry in session.hosts.values():
        if entry.target.startswith(UNADDRESSED):
            p.say(host_line(entry))

    def check(value: str) -> str | None:
        if not value:
            return None
        from installer.interactive.probing import parse_target

        try:
            parse_target(value)
        except SessionError as e:
            return str(e)
        return None

    while True:
        target = p.text("Add a host as user@address (empty when done)", "", check)
        if not target:
            if session.ready_hosts():
                return
            p.say("  No host is ready yet: add at least one host whose probe succeeds.")
            continue
        try:
            p.say(host_line(asyncio.run(session.add_host(target))))
        except SessionError as e:
            p.say(f"  {e}")


def ask_roles(session: Session, p: Prompter) -> None:
    p.say("== Roles ==")
    draft = session.draft
    session.suggest_roles_if_unset()
    while True:
        for h in draft.hosts:
            p.say(f"  {h.name}: {', '.join(h.roles) or '(none)'}")
        broken = [text for ok, text in role_rules(draft) if not ok]
        for text in broken:
            p.say(f"  not yet: {text}")
        if not broken and p.confirm("Use these roles?", True):
            return
        for h in draft.hosts:
            h.roles = p.checkbox(f"Roles of {h.name}", [
                Choice("control", "control", "control" in h.roles),
                Choice("compute", "compute", "compute" in h.roles),
                Choice("storage", "storage", "storage" in h.roles),
            ])


def ask_network(session: Session, p: Prompter) -> None:
    """The network questions, asked again (answers kept as defaults) until the answers-file
    rules that relate them hold: a range inside its network, ordered, clear of the hosts."""
    from manifests.loader import dotted

    p.say("== Network ==")
    while True:
        _ask_network_once(session, p)
        problems = session.network_problems()
        if not problems:
            return
        for path, message in problems.items():
            p.say(f"error: {dotted(path)}: {message}")
        p.say("Correct the network answers (Enter keeps an answer):")


def _ask_network_once(session: Session, p: Prompter) -> None:
    d = session.draft

    def field(key: str, required: bool = True) -> Check:
        return lambda v: check_field(key, v, required=required)

    d.management_cidr = p.text("Management CIDR", d.management_cidr,
                               field("network.management_cidr"))
    d.loadbalancer_range = p.text("Load-balancer range (START-END)", d.loadbalancer_range,
                                  field("network.loadbalancer_range"))
    d.dns_servers = p.text("DNS servers (optional, comma-separated)", d.dns_servers,
                           lambda v: check_address_list("DNS servers", v))
    d.external_enabled = p.confirm("Configure an external network for floating IPs?",
                                   d.external_enabled)
    if not d.external_enabled:
        return
    d.external_cidr = p.text("External CIDR", d.external_cidr, field("external.cidr"))
    d.external_gateway = p.text("External gateway", d.external_gateway, field("external.gateway"))
    d.external_range = p.text("Allocation range (START-END)", d.external_range,
                              field("external.allocation_range"))
    d.external_vlan = p.text("VLAN (optional)", d.external_vlan,
                             field("external.vlan", required=False))
    facts = session.facts_by_host()
    for h in d.hosts:
        f = facts.get(h.name)
        if "compute" not in h.roles or f is None:
            continue
        mgmt = management_nic(f)
        choices = [Choice("(none)", "")]
        for n in f.nics:
            if n.kind in ("loopback", "veth", "tun"):
                continue
            speed = f" {n.speed_mbps} Mb/s" if n.speed_mbps else ""
            mark = " (management)" if n.name == mgmt else ""
            choices.append(Choice(f"{n.name} {n.state}{speed}{mark}", n.name))
        default = h.external_nic or next(
            (c.value for c in choices[1:] if c.value != mgmt), "")
        h.external_nic = p.select(f"External NIC of {h.name}", choices, default) or None


def ask_storage(session: Session, p: Prompter) -> None:
    hosts = [h for h in session.draft.hosts if "storage" in h.roles]
    if not hosts:
        return
    p.say("== Storage ==")
    facts = session.facts_by_host()
    for h in hosts:
        f = facts.get(h.name)
        if f is None:
            continue
        while True:
            choices = []
            for disk in f.disks:
                ident = disk.by_id[0] if disk.by_id else disk.path
                title = f"{ident} {disk.model or ''} {disk.size_bytes / GIB:.0f} GiB"
                chosen = any(disk.matches(dev) for dev in h.osd_devices)
                choices.append(Choice(title, ident, chosen,
                                      None if disk.osd_eligible else disk.ineligible_reason))
            h.osd_devices = p.checkbox(f"Disks for Ceph on {h.name} (they are wiped)", choices)
            if h.osd_devices:
                break
            p.say(f"  Storage host {h.name} has no disk selected: select at least one.")


def ask_options(session: Session, p: Prompter) -> None:
    p.say("== Options ==")
    d = session.draft
    releases = session.release_names()
    d.release = p.select("OpenStack release", [Choice(r, r) for r in releases], d.release)

    def field(key: str) -> Check:
        return lambda v: check_field(key, v, required=False)

    d.deployment_name = p.text("Deployment name (prefixes the Juju models)", d.deployment_name,
                               lambda v: check_field("deployment.name", v)).strip()
    d.region = p.text("OpenStack region", d.region,
                      lambda v: check_field("deployment.region", v)).strip()
    d.proxy_http = p.text("HTTP proxy (optional)", d.proxy_http, field("proxy.http"))
    d.proxy_https = p.text("HTTPS proxy (optional)", d.proxy_https, field("proxy.https"))
    if d.proxy_http or d.proxy_https:
        d.no_proxy = p.text("No-proxy list", d.no_proxy, field("proxy.no_proxy"))
    features = session.feature_names()
    if features:
        d.features = p.checkbox("Optional features", [
            Choice(f"{k}: {v}", k, k in d.features) for k, v in features.items()])


def show_findings(notices: list[Notice], p: Prompter) -> None:
    if not notices:
        p.say("No findings: the answers pass every check.")
    for n in notices:
        p.say(n.line())


def event_line(event: Event, state: dict[str, int]) -> str | None:
    """One progress line per event that matters (logs are left to the log file)."""
    if isinstance(event, PlanStarted):
        state["total"] = event.steps
        state["finished"] = event.already_done
        return f"{run_title(event.kind)}: {event.steps} steps"
    if isinstance(event, StepStarted):
        return f"  start   {event.title}"  # titles name the host they concern
    if isinstance(event, StepFinished):
        state["finished"] = state.get("finished", 0) + 1
        n, total = state["finished"], state.get("total", 0)
        line = f"[{n:>4}/{total}] {event.outcome:<7} {event.step}"
        if event.outcome == "failed":
            line += f"\n  error: {event.error}"
            if event.hint:
                line += f"\n  hint: {event.hint}"
        return line
    if isinstance(event, PlanFinished):
        return (f"Install {event.outcome}: {event.done} done, {event.skipped} skipped, "
                f"{event.failed} failed, {event.pending} pending")
    return None


def interview(session: Session, p: Prompter, *, assume_yes: bool = False) -> bool:
    """Ask everything; True when the operator wants to install what the answers say."""
    p.say("sunbeam-install: guided install (plain mode)"
          + ("  [DRY RUN: the simulated lab, nothing is changed]" if session.dry_run else ""))
    ask_hosts(session, p)
    ask_roles(session, p)
    ask_network(session, p)
    ask_storage(session, p)
    ask_options(session, p)
    p.say("== Review ==")
    notices = session.validate()
    show_findings(notices, p)
    default_path = str(session.state_dir / "answers.yaml")
    path = p.text("Save the answers file to (empty: do not save)", default_path)
    if path:
        try:
            p.say(f"Saved to {session.save_answers(Path(path))}")
        except SessionError as e:
            p.say(str(e))
    if has_errors(notices):
        p.say("The answers have errors; fix them and run again (the saved file can be edited "
              "and used with --answers).")
        return False
    if any(n.severity == "warning" for n in notices) and not assume_yes:
        if not p.confirm("Accept the warnings above?", False):
            return False
        session.accepted_warnings = True
    try:
        summary = session.plan_summary()
        p.say(f"Plan: {summary.steps} steps on {summary.hosts} hosts")
    except SessionError as e:
        p.say(str(e))
        return False
    return assume_yes or p.confirm("Install now?", True)


def install(session: Session, p: Prompter) -> int:
    from installer.exits import Exit, exit_for

    state: dict[str, int] = {}

    def show(event: Event) -> None:
        line = event_line(event, state)
        if line:
            p.say(line)

    try:
        outcome, control = asyncio.run(_follow_install(session, show, p))
    except SessionError as e:
        p.say(str(e))
        return int(Exit.USAGE)
    except asyncio.CancelledError:  # Ctrl-C before the run's process was started
        p.say("Interrupted before the install started.")
        return int(Exit.INTERRUPTED)
    if control.detach_requested:
        from installer.interactive.commands import command_line

        pid = f" (pid {control.detached_pid})" if control.detached_pid else ""
        p.say(f"Detached: the install goes on in its own process{pid}. Follow it again with "
              f"`{command_line(session.settings, 'attach')}`.")
        return int(Exit.INTERRUPTED)
    if outcome == "done":
        from installer.interactive.commands import where_the_cloud_is

        p.say("Done." + (" (dry run: in the simulated lab; no host was changed)"
                         if session.dry_run else ""))
        for line in where_the_cloud_is(session.settings, session.draft.loadbalancer_range,
                                       session.draft.admin_password_file):
            p.say(line)
        if session.log_path:
            p.say(f"Log: {session.log_path}")
        return int(Exit.OK)
    p.say("The install did not finish; fix the cause and run `sunbeam-install resume`.")
    return int(exit_for(outcome))


async def _follow_install(session: Session, show: Callable[[Event], None],
                          p: Prompter) -> tuple[str, RunControl]:
    """Run the install in its own process and follow it; Ctrl-C as in headless mode (asks;
    twice stops the run, else this console detaches and the run goes on)."""
    from installer.pipeline.follow import CtrlC, RunControl, sigint_calls

    control = RunControl()
    task = asyncio.current_task()

    def cancel() -> None:  # still checking and planning: stop here, as Ctrl-C always did
        if task is not None:
            task.cancel()

    ctrl_c = CtrlC(control, ask=True, say=p.say, before_start=cancel)
    with sigint_calls(ctrl_c):
        outcome = await session.run_to(show, control)
    return outcome, control


def needs_line_prompts(env: dict[str, str] | None = None) -> bool:
    """questionary cannot draw on a dumb terminal or a pipe: use input() prompts there."""
    env = dict(os.environ) if env is None else env
    if env.get("TERM", "") in ("", "dumb", "unknown"):
        return True
    return not (sys.stdin.isatty() and sys.stdout.isatty())


def run_plain(settings: RunSettings, *, answers_path: str | None = None,
              assume_yes: bool = False, prompter: Prompter | None = None) -> int:
    """The CLI's entry to plain mode (`--plain`, TERM=dumb, or no terminal)."""
    from installer.exits import Exit

    prefill = None
    if answers_path:
        from manifests.loader import AnswersError, load_answers

        try:
            prefill = load_answers(answers_path)
        except AnswersError as e:
            print(f"sunbeam-install: {neutralise(str(e))}", file=sys.stderr)
            return int(Exit.INVALID)
    session = Session(settings, prefill=prefill)
    if prompter is None:
        prompter = LinePrompter() if needs_line_prompts() else QuestionaryPrompter()
    try:
        go = interview(session, prompter, assume_yes=assume_yes)
    except EOFError:
        print("sunbeam-install: input ended before every question was answered.", file=sys.stderr)
        return int(Exit.USAGE)
    if not go:
        return int(Exit.INVALID)
    return install(session, prompter)
