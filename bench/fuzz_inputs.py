"""Fuzz benchmark: mutated answers files and host facts through `validate --dry-run`, in-process.

    .venv/bin/python bench/fuzz_inputs.py [N_ANSWERS] [N_FACTS] [SEED]    (10000 1000 1)

Answers files are the examples/*.yaml texts mutated (bytes flipped, lines deleted or repeated,
and YAML-shaped damage: alias bombs, self-referencing aliases, merge keys, deep nesting, huge
numbers, long strings, tags, values of the wrong type) and run as `sunbeam-install validate FILE
--dry-run` runs them: load, rules, preflight against the lab's default facts. Facts files are
tests/fixtures/facts mutated (impossible sizes, long names, long lists, wrong types, broken
JSON, and a FIFO, a link to /dev/zero, a directory in their place) and run as `validate
examples/three-node.yaml --dry-run --facts DIR`, then through the TUI's `--facts` reader.

Reports tracebacks (any exception other than the operator-facing error types), inputs slower
than 1 s, and the peak RSS. Targets: 0, 0, under 200 MB. The same seed gives the same inputs;
a failing input is saved under the directory printed at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import resource
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from installer.cmd import validate  # noqa: E402
from installer.exits import UserError  # noqa: E402
from installer.interactive.probing import FactsDirProber  # noqa: E402

EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
FACTS = ROOT / "tests" / "fixtures" / "facts"
FACTS_ANSWERS = ROOT / "examples" / "three-node.yaml"  # its hosts are node1..node3
SLOW_SECONDS = 1.0
EXPECTED = (UserError,)  # what an operator is shown as an error (SessionError is one)


# -- answers mutations ------------------------------------------------------------------------

_PUNCT = [*":-[]{}&*!#'\"|>%@`,?\t\n ", "\u00e9", "\u202e", "\r", "\x1b[31m", "~", "<<"]


def _bomb(rng: random.Random) -> str:
    width, depth = rng.randint(2, 10), rng.randint(3, 12)
    lines = ["a0: &a0 [" + ",".join(['"lol"'] * width) + "]"]
    for i in range(1, depth):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def _nested(rng: random.Random) -> str:
    depth = rng.choice([10, 60, 70, 200, 600, 999, 1200, 5000])
    if rng.random() < 0.5:
        return "[" * depth + "1" + "]" * depth
    return "{a: " * depth + "1" + "}" * depth


def _big_number(rng: random.Random) -> str:
    digits = rng.choice([19, 20, 64, 65, 400, 4300, 4301, 10000])
    kind = rng.randrange(5)
    if kind == 0:
        return "0x" + "f" * digits
    if kind == 1:
        return ":".join(["59"] * max(2, digits // 3))
    if kind == 2:
        return "-" + "9" * digits
    if kind == 3:
        return "1e" + "9" * min(digits, 50)
    return "9" * digits


def _scalar(rng: random.Random) -> str:
    return rng.choice([
        "null", "~", "true", "no", "yes", "0", "-1", "1.5", ".nan", ".inf", "2024-13-45",
        "2024-02-30", "2025-01-01T00:00:00Z", "'2025.1'", "2025.1", "[]", "{}", "[1, [2, {3: 4}]]",
        "!!binary aGVsbG8=", "!!binary zz", "!!python/object:os.system ls", "!!set {a, b}",
        "!!omap [a: 1]", "!!str", "!!int abc", "!!float x", "!!timestamp x", "\"\\0\"",
        "\"\\x1b[2J\"", "/dev/zero", "/dev/stdin", "10.20.0.0/24", "10.20.0.300", "::1",
        "'" + "A" * rng.choice([256, 5000, 300_000]) + "'", _big_number(rng), "*nope",
        "&x 1", "? [a]", "|\n  text", ">-\n  folded", "'\u0000'",
    ])


def _mutate_answers(text: str, rng: random.Random) -> str:
    lines = text.splitlines(keepends=True) or ["\n"]
    kind = rng.randrange(14)
    i = rng.randrange(len(lines))
    if kind == 0:  # byte flips
        data = bytearray(text.encode())
        for _ in range(rng.randint(1, 8)):
            if data:
                data[rng.randrange(len(data))] = rng.randrange(256)
        return data.decode("utf-8", "replace")
    if kind == 1:  # punctuation dropped in
        at = rng.randrange(len(text) + 1)
        return text[:at] + rng.choice(_PUNCT) + text[at:]
    if kind == 2:  # lines deleted
        n = rng.randint(1, 5)
        del lines[i : i + n]
        return "".join(lines)
    if kind == 3:  # lines repeated
        lines[i:i] = lines[i : i + rng.randint(1, 4)] * rng.randint(1, 50)
        return "".join(lines)
    if kind == 4:  # a value swapped for another type
        line = lines[i]
        if ":" in line:
            key = line.split(":", 1)[0]
            lines[i] = f"{key}: {_scalar(rng)}\n"
        else:
            lines[i] = line.split("-", 1)[0] + f"- {_scalar(rng)}\n"
        return "".join(lines)
    if kind == 5:  # an alias bomb before the file, its last anchor used in a value
        bomb = _bomb(rng)
        last = bomb.rsplit("&", 1)[1].split(" ", 1)[0]
        if rng.random() < 0.5:
            return bomb + text.replace("features: [", f"features: [*{last}, ", 1)
        return bomb + text + f"software: {{x: {{config: {{k: *{last}}}}}}}\n"
    if kind == 6:  # a self-referencing alias
        return text + rng.choice([
            "extra: &s [*s]\n", "extra: &m {a: *m}\n", "x: &m\n  <<: *m\n",
            "y: &s 3\nz:\n  <<: *s\n",
            "w: &q {a: 1}\nv: {<<: [*q, 3]}\n",
        ])
    if kind == 7:  # deep nesting
        return text + f"deep: {_nested(rng)}\n"
    if kind == 8:  # deep block nesting
        depth = rng.choice([50, 70, 300, 800])
        return text + "block:\n" + "".join("  " * d + f"k{d}:\n" for d in range(1, depth))
    if kind == 9:  # a big number somewhere
        if rng.random() < 0.5:
            return text.replace("version: 1", f"version: {_big_number(rng)}", 1)
        key = lines[i].split(":", 1)[0] or "x"
        return "".join(lines[:i]) + f"{key}: {_big_number(rng)}\n" + "".join(lines[i + 1 :])
    if kind == 10:  # identity.admin_password_file at something hostile
        target = rng.choice([
            "/dev/zero", "/dev/null", "/dev/urandom", "/tmp", "/nonexistent/pw", "~nobodyhere/pw",
            "\"/tmp/\\0pw\"", "/" + "a" * 5000, "''", "/etc/hostname",
        ])
        return text.replace("admin_password_file: null", f"admin_password_file: {target}")
    if kind == 11:  # merge keys and anchors on real values
        return text.replace("network:", "base: &b {management_cidr: 10.20.0.0/24}\nnetwork:", 1) \
            .replace("  management_cidr:", rng.choice(["  <<: *b\n  management_cidr:",
                                                      "  <<: [*b, *b]\n  management_cidr:"]), 1)
    if kind == 12:  # directives, documents, tabs, BOM
        return rng.choice(["%YAML 1.1\n---\n", "---\n", "\ufeff", "%TAG ! tag:x,2000:\n---\n",
                           "\t"]) + text + rng.choice(["", "---\nsecond: doc\n", "...\n"])
    # many hosts by alias: duplicates the hosts list
    return text.replace("hosts:\n", "hosts: &h\n", 1) + "again: [*h, *h, *h, *h]\n"


def answers_inputs(n: int, seed: int) -> Iterator[bytes]:
    """`n` mutated answers files, made one at a time (some are hundreds of KB)."""
    rng = random.Random(seed)
    texts = [p.read_text() for p in EXAMPLES]
    for _ in range(n):
        text = rng.choice(texts)
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            text = _mutate_answers(text, rng)
        yield text.encode("utf-8", "surrogateescape")


# -- facts mutations --------------------------------------------------------------------------

_HUGE_INT = int("9" * 400)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*path, i))
    return out


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    parent = doc
    for p in path[:-1]:
        parent = parent[p]
    parent[path[-1]] = value
    return doc


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        doc = doc[p]
    return doc


_GROWTH_MAX = 6 * 1024 * 1024  # a repeated value adds at most this much JSON (past 4 MiB)


def _copies(value: Any) -> Any:
    """`value` with no part shared: a later mutation inside one repeat must not change all."""
    return json.loads(json.dumps(value))


def _facts_value(rng: random.Random, old: Any) -> Any:
    # Repeating a value is capped so that the fuzzer's own input stays a few MB.
    times = max(1, min(5000, _GROWTH_MAX // (len(json.dumps(old)) + 2)))
    choices: list[Callable[[], Any]] = [
        lambda: -1, lambda: -(2**63), lambda: 2**63, lambda: 2**64 + 1, lambda: _HUGE_INT,
        lambda: 0, lambda: 1.5, lambda: float("nan"), lambda: float("inf"), lambda: True,
        lambda: None, lambda: "", lambda: "x" * rng.choice([255, 256, 257, 5000, 200_000]),
        lambda: "\x1b]0;owned\x07\x1b[2J", lambda: [], lambda: {}, lambda: _copies([old] * times),
        lambda: {"a": old}, lambda: "10.0.0.1/33", lambda: "not-an-address", lambda: "9" * 5000,
    ]
    if isinstance(old, list) and old:
        choices += [
            lambda: _copies(old * min(times, rng.choice([2, 100, 5000]))),
            lambda: old[::-1],
            lambda: old[:0],
        ]
    return rng.choice(choices)()


def _mutate_facts(doc: Any, rng: random.Random) -> tuple[str, bytes | str]:
    """('text', bytes) for a file's content, or ('special', kind) for something else in its
    place."""
    roll = rng.random()
    if roll < 0.04:
        return "special", rng.choice(["fifo", "zero", "dir", "missing", "empty", "urandom"])
    text = json.dumps(doc)
    if roll < 0.25:  # byte-level damage
        data = bytearray(text.encode())
        for _ in range(rng.randint(1, 6)):
            op = rng.randrange(3)
            at = rng.randrange(len(data))
            if op == 0:
                data[at] = rng.randrange(256)
            elif op == 1:
                del data[at : at + rng.randint(1, 50)]
            else:
                data[at:at] = rng.choice([b"[" * 5000, b"9" * 5000, b"{", b'"', b"\x00", b"-"])
        return "text", bytes(data)
    for _ in range(rng.randint(1, 3)):
        if len(json.dumps(doc)) > _GROWTH_MAX:
            break
        path = rng.choice(_paths(doc))
        if path and rng.random() < 0.15:
            parent = _get(doc, path[:-1])
            if isinstance(parent, dict):
                del parent[path[-1]]
                continue
        doc = _set(doc, path, _facts_value(rng, _get(doc, path)))
    return "text", json.dumps(doc).encode()


@dataclass
class FactsCase:
    host: str
    kind: str  # text or special
    content: bytes | str


def facts_inputs(n: int, seed: int) -> Iterator[FactsCase]:
    """`n` mutated facts files, made one at a time (some are megabytes)."""
    rng = random.Random(seed + 1)
    docs = {p.stem: json.loads(p.read_text()) for p in FACTS.glob("node*.json")}
    for _ in range(n):
        host = rng.choice(sorted(docs))
        kind, content = _mutate_facts(json.loads(json.dumps(docs[host])), rng)
        yield FactsCase(host, kind, content)


def _write_facts_dir(directory: Path, case: FactsCase) -> None:
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir()
    for p in FACTS.glob("node*.json"):
        shutil.copy(p, directory / p.name)
    target = directory / f"{case.host}.json"
    target.unlink()
    if case.kind == "text":
        assert isinstance(case.content, bytes)
        target.write_bytes(case.content)
    elif case.content == "fifo":
        os.mkfifo(target)
    elif case.content == "zero":
        target.symlink_to("/dev/zero")
    elif case.content == "urandom":
        target.symlink_to("/dev/urandom")
    elif case.content == "dir":
        target.mkdir()
    elif case.content == "empty":
        target.write_bytes(b"")
    # "missing": nothing there


# -- running ----------------------------------------------------------------------------------


@dataclass
class Report:
    inputs: int = 0
    tracebacks: list[tuple[str, str]] = field(default_factory=list)  # (input id, traceback)
    slow: list[tuple[str, float]] = field(default_factory=list)
    expected_errors: int = 0
    valid: int = 0
    loaded: int = 0  # answers valid enough to reach preflight
    worst: tuple[str, float] = ("", 0.0)
    rss_jumps: list[tuple[str, int]] = field(default_factory=list)  # (input id, peak KiB after)


def _peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _run_one(
    report: Report, ident: str, call: Callable[[], int], saved: Callable[[], None]
) -> None:
    report.inputs += 1
    before = _peak_kib()
    sink = io.StringIO()
    t0 = time.perf_counter()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            rc = call()
        if rc == 0:
            report.valid += 1
        else:
            report.expected_errors += 1
    except EXPECTED:
        report.expected_errors += 1
    except BaseException:  # anything else is a traceback the operator would see
        report.tracebacks.append((ident, traceback.format_exc(limit=-6)))
        saved()
    elapsed = time.perf_counter() - t0
    if ": valid: release" in sink.getvalue():
        report.loaded += 1
    if elapsed > SLOW_SECONDS:
        report.slow.append((ident, elapsed))
        saved()
    if elapsed > report.worst[1]:
        report.worst = (ident, elapsed)
    after = _peak_kib()
    if after > before + 20 * 1024:
        report.rss_jumps.append((ident, after))


def _validate_args(file: Path, facts: Path | None) -> argparse.Namespace:
    return argparse.Namespace(
        file=str(file), dry_run=True, facts=str(facts) if facts else None, probe=False,
        accept_new_host_keys=False,
    )


def run(n_answers: int, n_facts: int, seed: int, *, keep: Path | None = None,
        progress: bool = True) -> Report:
    """Run the fuzz; failing inputs are copied under `keep` when given."""
    import asyncio

    report = Report()
    with tempfile.TemporaryDirectory(prefix="fuzz-inputs-") as tmp:
        work = Path(tmp)
        answers_file = work / "answers.yaml"
        for i, raw in enumerate(answers_inputs(n_answers, seed)):
            answers_file.write_bytes(raw)

            def save(i: int = i, raw: bytes = raw) -> None:
                if keep is not None:
                    keep.mkdir(parents=True, exist_ok=True)
                    (keep / f"answers-{seed}-{i}.yaml").write_bytes(raw)

            _run_one(report, f"answers #{i}",
                     lambda: validate.run(_validate_args(answers_file, None)), save)
            if progress and (i + 1) % 1000 == 0:
                print(f"  answers {i + 1}/{n_answers}", file=sys.stderr)
        facts_dir = work / "facts"
        for i, case in enumerate(facts_inputs(n_facts, seed)):
            _write_facts_dir(facts_dir, case)

            def save_facts(i: int = i, case: FactsCase = case) -> None:
                if keep is not None:
                    keep.mkdir(parents=True, exist_ok=True)
                    name = f"facts-{seed}-{i}-{case.host}.json"
                    content = case.content
                    if isinstance(content, str):  # a special file: say which
                        content = f"<{content}>".encode()
                    (keep / name).write_bytes(content)

            _run_one(report, f"facts #{i} ({case.host}, {case.kind})",
                     lambda: validate.run(_validate_args(FACTS_ANSWERS, facts_dir)), save_facts)

            def tui_reader() -> int:
                asyncio.run(FactsDirProber(facts_dir).probe_local())
                return 0

            _run_one(report, f"facts #{i} via the TUI reader ({case.host}, {case.kind})",
                     tui_reader, save_facts)
            if progress and (i + 1) % 250 == 0:
                print(f"  facts {i + 1}/{n_facts}", file=sys.stderr)
    return report


def _signature(tb: str) -> str:
    """`File "...", line N` of the innermost frame and the exception's first line."""
    lines = [line for line in tb.splitlines() if line.strip()]
    frames = [line.strip() for line in lines if line.strip().startswith("File ")]
    return f"{frames[-1] if frames else '?'}: {lines[-1][:120]}"


def main() -> int:
    n_answers = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    n_facts = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    keep = Path(tempfile.mkdtemp(prefix="fuzz-failures-"))
    t0 = time.perf_counter()
    report = run(n_answers, n_facts, seed, keep=keep)
    wall = time.perf_counter() - t0
    kinds: dict[str, list[str]] = {}
    for ident, tb in report.tracebacks:
        kinds.setdefault(_signature(tb), []).append(ident)
    for signature, idents in kinds.items():
        tb = next(t for i, t in report.tracebacks if i == idents[0])
        print(f"--- {len(idents)} traceback(s) ending {signature}, first on {idents[0]}:\n{tb}")
    for ident, seconds in report.slow[:20]:
        print(f"--- slow: {ident}: {seconds:.2f} s")
    for ident, kib in report.rss_jumps[:10]:
        print(f"--- peak RSS rose to {kib / 1024:.0f} MB on {ident}")
    peak_mb = _peak_kib() / 1024
    print(
        f"fuzz seed {seed}: {report.inputs} runs ({n_answers} answers files, {n_facts} facts "
        f"dirs, each facts dir through validate and the TUI reader): {len(report.tracebacks)} "
        f"tracebacks, {len(report.slow)} slower than {SLOW_SECONDS:.0f} s (slowest "
        f"{report.worst[1] * 1000:.0f} ms: {report.worst[0]}); {report.loaded} reached "
        f"preflight, {report.valid} passed it, {report.expected_errors} refused with an error; "
        f"peak RSS {peak_mb:.0f} MB; "
        f"wall {wall:.0f} s"
    )
    if report.tracebacks or report.slow:
        print(f"failing inputs saved in {keep}")
    else:
        shutil.rmtree(keep, ignore_errors=True)
    return 1 if report.tracebacks or report.slow or peak_mb > 200 else 0


if __name__ == "__main__":
    sys.exit(main())
