"""Show host facts: NICs, disks (and which can hold Ceph OSDs), CPU virtualization, memory, OS.

With no HOST, probes this machine. HOST is [user@]address[:port]; remote hosts are probed over
SSH concurrently and need only python3 on the far side (the probe code is sent each time).

--json prints, for this machine or a single HOST, one HostFacts object (save it as
<host>.json for `--dry-run --facts DIR`); for several HOSTs, a {HOST: facts} object of the
hosts that answered. --save DIR writes <hostname>.json for every host that answered.
Failures are listed on stderr, one line per host; the exit code is 1 when any host failed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from installer.exits import Exit, UserError

if TYPE_CHECKING:
    from probes.facts import HostFacts


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("hosts", nargs="*", metavar="HOST", help="[user@]address[:port]")
    parser.add_argument("--json", action="store_true", help="print the facts as JSON")
    parser.add_argument(
        "--save", metavar="DIR", help="also write <hostname>.json per host (for --facts DIR)"
    )
    # SUPPRESS: the same option given before the command (a run option) must not be reset here.
    parser.add_argument(
        "--accept-new-host-keys",
        action="store_true",
        default=argparse.SUPPRESS,
        help="trust SSH host keys seen for the first time and record them (never a changed key)",
    )
    parser.add_argument(
        "--known-hosts",
        metavar="FILE",
        default=argparse.SUPPRESS,
        help="known_hosts file to check host keys against (default ~/.ssh/known_hosts)",
    )
    parser.add_argument(
        "--timeout", metavar="S", type=float, default=30.0, help="seconds per host (default 30)"
    )
    parser.add_argument(
        "--concurrency",
        metavar="N",
        type=int,
        default=32,
        help="hosts probed at once (default 32)",
    )
    parser.add_argument(
        "--identity",
        "-i",
        metavar="FILE",
        action="append",
        default=argparse.SUPPRESS,
        help="SSH private key to use (repeatable; default: ssh-agent and ~/.ssh/id_*)",
    )


def run(args: argparse.Namespace) -> int:
    if args.timeout <= 0:
        raise UserError(
            f"--timeout {args.timeout:g} is not positive; give seconds above 0.", Exit.USAGE
        )
    if args.concurrency < 1:
        raise UserError(f"--concurrency {args.concurrency} is below 1; give 1 or more.", Exit.USAGE)
    if not args.hosts:
        from probes.local import probe_local

        facts = probe_local()
        _emit({"this host": facts}, args, single=True)
        return int(Exit.OK)

    from probes.remote import ProbeFailure, TargetError, parse_target, probe_hosts_sync

    for host in args.hosts:
        try:
            parse_target(host)
        except TargetError as e:
            raise UserError(str(e), Exit.USAGE) from None
    identity = getattr(args, "identity", None)
    keys = [identity] if isinstance(identity, str) else identity
    for key in keys or []:
        if not Path(key).is_file():
            raise UserError(f"SSH key {key} does not exist; give the path of a private key.")
    from probes.remote import KnownHostsError

    try:
        results = probe_hosts_sync(
            list(dict.fromkeys(args.hosts)),
            concurrency=args.concurrency,
            timeout=args.timeout,
            known_hosts=getattr(args, "known_hosts", None),
            accept_new_host_keys=getattr(args, "accept_new_host_keys", False),
            client_keys=keys,
        )
    except KnownHostsError as e:
        raise UserError(str(e), Exit.PREREQUISITE) from None
    answered = {t: r for t, r in results.items() if not isinstance(r, ProbeFailure)}
    failed = [r for r in results.values() if isinstance(r, ProbeFailure)]
    _emit(answered, args, single=len(args.hosts) == 1)
    from installer.text import neutralise, one_line

    for f in failed:
        # The failure quotes the host (its stderr): shown with its control characters escaped.
        print(f"sunbeam-install: probe of {neutralise(str(f))}", file=sys.stderr)
    if failed:
        print(
            f"sunbeam-install: {len(failed)} of {len(results)} hosts failed: "
            + ", ".join(one_line(f.target) for f in failed),
            file=sys.stderr,
        )
        return int(Exit.INVALID)
    return int(Exit.OK)


def _identity(facts: HostFacts) -> tuple[set[str], set[str]]:
    """What tells one machine from another: its NICs' MACs and its addresses (loopback aside)."""
    nics = [n for n in facts.nics if n.kind != "loopback"]
    macs = {n.mac.lower() for n in nics if n.mac and n.mac.strip("0:")}
    addresses = {str(i.ip) for n in nics for i in n.interfaces() if not i.ip.is_loopback}
    return macs, addresses


def same_machine(a: HostFacts, b: HostFacts) -> bool:
    """Whether two facts describe one machine (probed twice, or by two of its addresses)."""
    if a.hostname != b.hostname:
        return False
    (macs_a, addrs_a), (macs_b, addrs_b) = _identity(a), _identity(b)
    if macs_a and macs_b:
        return bool(macs_a & macs_b)
    return bool(addrs_a & addrs_b)


def _label(target: str) -> str:
    """A file-name part for a target: its address and port, other characters as `_`."""
    from probes.remote import TargetError, parse_target

    try:
        t = parse_target(target)
        text = t.host if t.port == 22 else f"{t.host}_{t.port}"
    except TargetError:
        text = "local"
    return "".join(c if c.isalnum() or c in ".-" else "_" for c in text)


def _existing(path: Path) -> HostFacts | None:
    from probes.facts import HostFacts

    try:
        return HostFacts.model_validate_json(path.read_bytes())
    except (OSError, ValueError):
        return None


def save_facts(out: Path, results: dict[str, HostFacts]) -> list[str]:
    """Write <hostname>.json per host into `out`, never over another machine's file: a second
    host reporting the same hostname (in this run, or in a file already there) is written as
    <hostname>.<address>.json instead. The notices say which, one line each."""
    notices: list[str] = []
    written: dict[Path, tuple[str, HostFacts]] = {}

    def taken(path: Path, facts: HostFacts) -> bool:
        """Whether `path` holds another machine's facts (from this run or from before)."""
        if path in written:
            return not same_machine(written[path][1], facts)
        if not path.exists():
            return False
        prior = _existing(path)
        return prior is None or not same_machine(prior, facts)

    for target, facts in results.items():
        path = out / f"{facts.hostname}.json"
        if taken(path, facts):
            whence = (
                f"was saved from {written[path][0]} in this run"
                if path in written
                else "already holds another machine's facts"
            )
            n, base = 1, f"{facts.hostname}.{_label(target)}"
            first = path
            path = out / f"{base}.json"
            while taken(path, facts):
                n += 1
                path = out / f"{base}-{n}.json"
            notices.append(
                f"{target} reports hostname {facts.hostname}, but {first} {whence}: saved as "
                f"{path} instead (rename it to <host>.json, the answers' host name, for "
                "--facts DIR)"
            )
        path.write_text(facts.model_dump_json(indent=2) + "\n")
        written[path] = (target, facts)
    return notices


def _emit(results: dict[str, HostFacts], args: argparse.Namespace, *, single: bool) -> None:
    if args.save:
        out = Path(args.save)
        try:
            out.mkdir(parents=True, exist_ok=True)
            notices = save_facts(out, results)
        except OSError as e:
            raise UserError(
                f"Cannot write facts to {out}: {e.strerror}; choose another --save DIR."
            ) from None
        from installer.text import neutralise

        for line in notices:
            print(f"sunbeam-install: probe --save: {neutralise(line)}", file=sys.stderr)
    if args.json:
        if single:
            for facts in results.values():
                print(facts.model_dump_json(indent=2))
        else:
            import json

            doc = {t: f.model_dump(mode="json") for t, f in results.items()}
            print(json.dumps(doc, indent=2))
        return
    from installer.text import neutralise
    from probes.table import render

    # Every name in the table is the host's own (hostname, NICs, disk models): a terminal gets
    # their control characters escaped; --json above stays faithful.
    for target, facts in results.items():
        print(neutralise(render(facts, title=target)))
