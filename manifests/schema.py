"""JSON Schema of the answers file, for editors (committed as manifests/answers.schema.json)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from manifests.answers import Answers

SCHEMA_FILE = "answers.schema.json"


def answers_schema() -> dict[str, Any]:
    schema = Answers.model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://sunbeam-install.invalid/answers.schema.json",
        **schema,
        "title": "sunbeam-install answers file, version 1",
    }


def schema_text() -> str:
    return json.dumps(answers_schema(), indent=2, sort_keys=False) + "\n"


def committed_schema_text() -> str:
    return resources.files("manifests").joinpath(SCHEMA_FILE).read_text()
