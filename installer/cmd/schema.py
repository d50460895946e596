"""Print the JSON Schema of the answers file (version 1).

Point your editor's YAML language server at it for completion and checking, e.g. put
`# yaml-language-server: $schema=answers.schema.json` at the top of an answers file."""

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser


def run(args: argparse.Namespace) -> int:
    from manifests.schema import schema_text

    sys.stdout.write(schema_text())
    return 0
