"""Write a diagnostics tarball of the last run to attach to a bug report: the journal summary and
steps, the run logs and events, the answers, the host facts, `juju status` and a `juju
debug-log` tail of every model, the pods and events of the OpenStack namespace and the snap
changes of every host, with a MANIFEST of what was collected and what could not be. Secrets
(the admin password, proxy credentials, anything in the state dir's secrets) are replaced by
asterisks; the file is readable by you only. Works on a dry-run lab with --dry-run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from installer.cmd._options import add_ssh_options
from installer.exits import Exit, UserError

PROG = "sunbeam-install"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true",
                        help="inspect the dry-run lab's state dir (default "
                        "$XDG_STATE_HOME/sunbeam-install)")
    parser.add_argument("--state-dir", metavar="DIR",
                        help="inspect the run recorded in DIR")
    parser.add_argument("--out", metavar="FILE.tar.gz",
                        help="write the tarball to FILE (never overwritten; default "
                        "./sunbeam-install-inspection-<date>-<time>.tar.gz)")
    parser.add_argument("--accept-new-host-keys", action="store_true",
                        help="trust SSH host keys seen for the first time (never a changed key)")
    add_ssh_options(parser)


def run(args: argparse.Namespace) -> int:
    import asyncio

    from installer.cmd.status import status_data
    from installer.pipeline.inspect import check_out, collect
    from installer.pipeline.settings import RunSettings
    from installer.text import neutralise, one_line

    settings = RunSettings.build(
        dry_run=bool(args.dry_run), state_dir=args.state_dir,
        accept_new_host_keys=bool(args.accept_new_host_keys),
        ssh_identity=args.identity, known_hosts=args.known_hosts,
    )
    settings.check()
    out = Path(args.out).expanduser() if args.out else None
    if out is not None:
        check_out(out)  # before anything is read
    state_dir = settings.resolved_state_dir()
    summary = status_data(state_dir)
    if summary is None:
        hint = "" if args.dry_run or args.state_dir else "; for a dry-run install add --dry-run"
        raise UserError(f"No run is recorded in {str(state_dir)!r}, so there is nothing to "
                        f"inspect{hint}.", Exit.INVALID)
    result = asyncio.run(collect(settings, summary=summary, out=out))
    print(f"Wrote {one_line(str(result.path))} ({len(result.members)} files, secrets removed).")
    if result.failed:
        print(f"Not collected ({len(result.failed)}; the MANIFEST in the tarball says why):",
              file=sys.stderr)
        for what, why in result.failed:
            # Reasons quote hosts and backends: control characters shown escaped.
            print(f"  {neutralise(what)}: {one_line(' '.join(why.split()))}", file=sys.stderr)
    print("Attach it to your bug report; it is readable by you only.")
    return int(Exit.OK)
