"""The core imports without Textual, and the CLI starts without the heavy backend libraries."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ["textual", "asyncssh", "lightkube", "jubilant", "questionary", "httpx"]


def loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return {m.split(".")[0] for m in json.loads(out.splitlines()[-1])}


@pytest.mark.parametrize("package", ["installer", "probes", "manifests"])
def test_core_packages_import_without_textual(package: str) -> None:
    code = (
        "SKIP = ('installer.cmd', 'installer.backends')\n"
        f"import {package}, pkgutil, importlib\n"
        f"import {package} as p\n"
        "for m in pkgutil.walk_packages(p.__path__, p.__name__ + '.'):\n"
        "    if m.name.endswith('__main__') or m.name.startswith(SKIP):\n"
        "        continue\n"
        "    importlib.import_module(m.name)\n"
    )
    assert "textual" not in loaded_after(code)


def test_interactive_model_imports_without_textual_or_backends() -> None:
    """installer.interactive, the model the TUI and plain mode drive, is Textual-free, and its
    modules load no backend library until a probe or a run needs one."""
    code = (
        "import importlib, pkgutil\n"
        "import installer.interactive as p\n"
        "names = [m.name for m in pkgutil.walk_packages(p.__path__, p.__name__ + '.')]\n"
        "assert {'install', 'upgrade', 'notices'} <= {n.rsplit('.', 1)[1] for n in names}\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
    )
    assert not loaded_after(code) & set(HEAVY)


def test_help_and_validate_load_no_heavy_library() -> None:
    code = (
        "import contextlib, io\n"
        "from installer.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['validate', 'examples/three-node.yaml'])\n"
        "    main(['schema'])\n"
    )
    assert not loaded_after(code) & set(HEAVY)
