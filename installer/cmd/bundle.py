"""Print the deployment an answers file converges to, as one Juju bundle per model.

The same data as the plan: the applications with charm, channel, base, units, trust, options
and placement; the relations; the offers and the offers each model consumes. Compare it with
`juju export-bundle` of a cloud Sunbeam deployed. YAML documents (one per model, each headed by
a comment naming the model) or, with --json, {"models": {"<model>": <bundle>}}. Proxy
credentials in options are shown as ***.

On a state dir whose cloud is deployed (--dry-run: the lab's), prints what a converge to FILE
changes in the bundles instead: applications, units, relations and consumed offers added (+),
changed (~) or removed (-), against the cloud as Juju's status shows it; with --json,
{"changes": [...], "deployed": {...}, "planned": {...}}. --full prints the whole bundles."""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="the answers file (YAML)")
    parser.add_argument("--json", action="store_true", help="print the bundles as JSON")
    from installer.cmd.plan import add_converge_arguments

    add_converge_arguments(parser)


def run(args: argparse.Namespace) -> int:
    import yaml

    from installer.cmd.plan import converge_preview, load_for_planning
    from installer.exits import Exit
    from installer.planner import bundle
    from installer.planner.live import bundle_changes
    from installer.secrets import redact_url_credentials

    loaded = load_for_planning(args.file)
    if loaded is None:
        return int(Exit.INVALID)
    shown = converge_preview(args, loaded[0])
    if shown is not None:
        changes = bundle_changes(shown.deployed_bundle, shown.planned_bundle)
        if args.json:
            print(json.dumps({"changes": changes, "deployed": shown.deployed_bundle,
                              "planned": shown.planned_bundle}, indent=2))
        else:
            print("\n".join(changes or ["Nothing to change: the deployed bundles already are "
                                         f"those of {args.file}."]))
        return int(Exit.OK)
    models = bundle(*loaded)
    if args.json:
        print(redact_url_credentials(json.dumps({"models": models}, indent=2)))
        return int(Exit.OK)
    docs = [f"# model {name}\n" + yaml.safe_dump(b, sort_keys=False) for name, b in models.items()]
    print(redact_url_credentials("---\n".join(docs)), end="")
    return int(Exit.OK)
