"""The committed JSON Schema matches the model, and `sunbeam-install schema` prints it."""

import json

from installer.cli import main
from manifests.schema import answers_schema, committed_schema_text, schema_text


def test_committed_schema_is_current() -> None:
    assert committed_schema_text() == schema_text(), (
        "manifests/answers.schema.json drifted from the Answers model; regenerate it with "
        "`sunbeam-install schema > manifests/answers.schema.json`"
    )


def test_schema_forbids_unknown_keys_everywhere() -> None:
    schema = answers_schema()
    assert schema["additionalProperties"] is False
    for name, definition in schema["$defs"].items():
        assert definition.get("additionalProperties") is False, name


def test_schema_command_prints_it(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["schema"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out) == answers_schema()
    assert out == committed_schema_text()
