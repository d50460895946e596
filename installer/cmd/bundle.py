"""Print the deployment an answers file converges to, as one Juju bundle per model.

The same data as the plan: the applications with charm, channel, base, units, trust, options
and placement; the relations; the offers and the offers each model consumes. Compare it with
`juju export-bundle` of a cloud Sunbeam deployed. YAML documents (one per model, each headed by
a comment naming the model) or, with --json, {"models": {"<model>": <bundle>}}. Proxy
credentials in options are shown as ***."""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="the answers file (YAML)")
    parser.add_argument("--json", action="store_true", help="print the bundles as JSON")


def run(args: argparse.Namespace) -> int:
    import yaml

    from installer.cmd.plan import load_for_planning
    from installer.exits import Exit
    from installer.planner import bundle
    from installer.secrets import redact_url_credentials

    loaded = load_for_planning(args.file)
    if loaded is None:
        return int(Exit.INVALID)
    models = bundle(*loaded)
    if args.json:
        print(redact_url_credentials(json.dumps({"models": models}, indent=2)))
        return int(Exit.OK)
    docs = [f"# model {name}\n" + yaml.safe_dump(b, sort_keys=False) for name, b in models.items()]
    print(redact_url_credentials("---\n".join(docs)), end="")
    return int(Exit.OK)
