"""JujuBackend over the `juju` CLI, every call an asyncio subprocess the installer owns.

Each call runs ``juju`` in its own process group through `commands.capture_command` (short
calls whose JSON is parsed) or `commands.run_command` (``bootstrap`` and ``add-machine``, which
take minutes and whose output, streamed line by line, is the operator's only sign of life).
A cancelled step (Ctrl+C, the runner's interrupt) kills that group and reaps it, so no ``juju``
outlives its step. jubilant (Canonical's CLI wrapper, which Sunbeam moved to) is used only to
parse ``juju status`` and ``juju run`` JSON: its calls run ``subprocess.run``, which blocks a
thread that cannot be cancelled.

Models are addressed as ``controller:model`` once the controller is known, so the operator's
own ``juju switch`` never redirects the installer. Idempotency: "already exists" answers of
deploy, add-model, integrate, offer and consume mean the wanted state and are not errors (a step
retried after a timeout finds its earlier attempt done).

Status: one shared `juju status` source per model (juju_status.py), filtered to the applications
asked about. Every command that changes a model invalidates its shared status; actions
(`juju run`) do not: what they change is read back through other actions or the host, never
through `juju status`.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from installer.backends.base import (
    BackendError,
    LogFn,
    ModelStatus,
    ProgressFn,
    UnitStatus,
)
from installer.backends.commands import CapturedOutput, capture_command, run_command
from installer.backends.juju_batch import UnitBatcher
from installer.backends.juju_status import StatusSource, Wanted, missing_principals

if TYPE_CHECKING:
    import jubilant

# Phrases of juju errors worth retrying: the controller API restarting or briefly unreachable.
_TRANSIENT = (
    "connection refused",
    "i/o timeout",
    "connection is shut down",
    "try again",
    "upgrade in progress",
    "EOF",
    "context deadline exceeded",
    "cannot connect to api",
)
_ALREADY = ("already exists", "already added", "already in use by")
# Commands that change nothing: every other command on a model invalidates its shared status.
_READS = frozenset({"status", "show-unit", "controllers", "clouds", "models", "version"})
# Commands whose change shows in other models too (the offering model lists who consumes and
# relates to its offers): they invalidate every model's status.
_CROSS_MODEL = frozenset({"offer", "consume", "integrate", "remove-relation",
                          "remove-application"})
_MACHINE_CREATED = re.compile(r"created machine (\d+)")

ConfigValue = str | int | float | bool


def _config_value(key: str, value: object) -> ConfigValue:
    if isinstance(value, str | int | float | bool):
        return value
    raise BackendError(
        f"The charm config value {key}={value!r} is not a string, number or boolean.",
        hint="Give config values as plain strings, numbers or true/false.",
    )


def _config_arg(key: str, value: ConfigValue) -> str:
    # Juju reads YAML booleans; Python's True would arrive as the string "True".
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return f"{key}={text}"


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in (text or "").strip().splitlines() if ln.strip()]
    return lines[-1] if lines else ""


class JujuCliBackend:
    """The real JujuBackend. `cli_binary` is ``juju`` (or a fake in tests).

    `controller` qualifies every model (``ctrl:model``); bootstrap sets it. `poll_interval` is how
    often wait_settled reads the status, and how long a status answer is shared with the steps
    asking after it (juju_status.py; our own changes to a model end that at once); a unit in
    error for longer than `error_grace` seconds fails the wait early (charms often pass through
    error while a hook is retried).
    """

    def __init__(
        self,
        *,
        cli_binary: str = "juju",
        controller: str | None = None,
        poll_interval: float = 5.0,
        error_grace: float = 300.0,
        action_wait: float = 600.0,
    ) -> None:
        self.cli_binary = cli_binary
        self.controller = controller
        self.poll_interval = poll_interval
        self.error_grace = error_grace
        self.action_wait = action_wait
        self._sources: dict[str, StatusSource] = {}  # qualified model -> its shared status
        self._batchers: dict[tuple[str, str], UnitBatcher] = {}  # (model, app) -> its add-units

    # -- plumbing ----------------------------------------------------------------------------

    def _model(self, model: str) -> str:
        if ":" in model or self.controller is None:
            return model
        return f"{self.controller}:{model}"

    async def _cli(
        self,
        what: str,
        *args: str,
        model: str | None = None,
        stdin: bytes | None = None,
        ok_if_exists: bool = False,
    ) -> str:
        """Run ``juju ARGS`` (with ``--model`` after the command when `model` is given) and
        return its stdout; a failure becomes BackendError naming `what`."""
        try:
            output = await self._capture(*args, model=model, stdin=stdin)
        finally:
            if args[0] in _CROSS_MODEL:
                for source in self._sources.values():
                    source.invalidate()
            elif model is not None and args[0] not in _READS:
                self._invalidate(model)
        if output.returncode != 0:
            if ok_if_exists and any(p in output.stderr for p in _ALREADY):
                return ""
            raise self._error(what, output.stderr or output.stdout, output.returncode)
        return output.stdout

    async def _capture(
        self, *args: str, model: str | None = None, stdin: bytes | None = None
    ) -> CapturedOutput:
        argv = [self.cli_binary, args[0]]
        if model is not None:
            argv += ["--model", self._model(model)]
        argv += args[1:]
        try:
            return await capture_command(argv, stdin=stdin)
        except FileNotFoundError:
            raise BackendError(
                f"The juju command {self.cli_binary!r} was not found.",
                hint="Install it with `sudo snap install juju` (the install does this first).",
            ) from None
        except PermissionError:
            raise BackendError(
                f"The juju command {self.cli_binary!r} cannot be executed (permission denied).",
                hint="Check the file's permissions.",
            ) from None

    def _error(self, what: str, output: str, code: int) -> BackendError:
        line = _last_line(output) or f"exit code {code}"
        line = re.sub(r"^ERROR\s+", "", line)
        transient = any(p.lower() in output.lower() for p in _TRANSIENT)
        hint = (
            "The Juju controller was briefly unreachable; it is retried."
            if transient
            else "Run the same juju command by hand to see its full output."
        )
        return BackendError(f"juju {what} failed: {line}", hint=hint, transient=transient)

    @staticmethod
    def _parse_json(what: str, text: str) -> Any:
        try:
            return json.loads(text or "{}")
        except ValueError:
            raise BackendError(
                f"juju {what} printed output that is not JSON.",
                hint="Check the juju version (3.6 is expected).",
            ) from None

    async def _json(self, *args: str) -> Any:
        return self._parse_json(args[0], await self._cli(args[0], *args))

    def _controller_args(self) -> list[str]:
        return ["--controller", self.controller] if self.controller else []

    def _params_dir(self) -> str | None:
        """Where a params file must live for juju to read it: a strictly confined snap cannot
        read /tmp, only its own common directory (as jubilant does)."""
        found = shutil.which(self.cli_binary)
        if found is None or "/snap/" not in found:
            return None
        path = os.path.expanduser("~/snap/juju/common")
        os.makedirs(path, exist_ok=True)
        return path

    # -- controllers, clouds, models ---------------------------------------------------------

    async def controllers(self) -> list[str]:
        data = await self._json("controllers", "--format", "json")
        return sorted((data or {}).get("controllers") or {})

    async def bootstrap(
        self, cloud: str, controller: str, *, log: LogFn,
        model_defaults: Mapping[str, object] | None = None,
    ) -> None:
        argv = [self.cli_binary, "bootstrap", cloud, controller]
        for k, v in (model_defaults or {}).items():
            argv += ["--model-default", _config_arg(k, _config_value(k, v))]
        await run_command(argv, log=log, check=True)
        self.controller = controller

    async def clouds(self) -> list[str]:
        args = ["clouds", "--format", "json"]
        args += self._controller_args() or ["--client"]
        data = await self._json(*args)
        return sorted(data or {})

    async def add_k8s_cloud(self, name: str, kubeconfig: str) -> None:
        """Register a Kubernetes cloud. `kubeconfig` is a file path or the kubeconfig's text.

        The text is sent on stdin (it holds a token: never on the command line or in a log).
        """
        argv = [self.cli_binary, "add-k8s", name, *(self._controller_args() or ["--client"])]
        env: dict[str, str] = {}
        stdin: bytes | None = None
        if "\n" not in kubeconfig and os.path.isfile(kubeconfig):
            env["KUBECONFIG"] = kubeconfig
        else:
            stdin = kubeconfig.encode()
        lines: list[str] = []
        result = await run_command(argv, env=env, stdin=stdin, log=lines.append)
        if result.returncode != 0:
            text = "\n".join(result.output_tail)
            if any(p in text for p in _ALREADY):
                return
            raise self._error(f"add-k8s {name}", text, result.returncode)

    async def models(self) -> list[str]:
        args = ["models", "--format", "json", *self._controller_args()]
        data = await self._json(*args)
        names = []
        for m in (data or {}).get("models") or []:
            names.append(str(m.get("short-name") or str(m.get("name", "")).split("/")[-1]))
        return sorted(names)

    async def add_model(
        self, name: str, cloud: str, *, config: Mapping[str, object] | None = None
    ) -> None:
        settings: list[str] = []
        for k, v in (config or {}).items():
            settings += ["--config", _config_arg(k, _config_value(k, v))]
        await self._cli(
            f"add-model {name}",
            "add-model", "--no-switch", name, cloud, *self._controller_args(), *settings,
            ok_if_exists=True,
        )

    async def add_machine(
        self, model: str, address: str, ssh_user: str | None, *, log: LogFn
    ) -> str:
        """Add a host to a machine model over SSH (manual provider); returns its machine id.

        A host that is already a machine of the model is not added twice.
        """
        existing = await self._machine_with_address(model, address)
        if existing is not None:
            log(f"{address} is already machine {existing}")
            return existing
        target = f"ssh:{ssh_user}@{address}" if ssh_user else f"ssh:{address}"
        lines: list[str] = []

        def keep(line: str) -> None:
            lines.append(line)
            log(line)

        try:
            result = await run_command(
                [self.cli_binary, "add-machine", "--model", self._model(model), target], log=keep
            )
        finally:
            self._invalidate(model)
        if result.returncode != 0:
            raise self._error(f"add-machine {target}", "\n".join(lines), result.returncode)
        for line in reversed(lines):
            m = _MACHINE_CREATED.search(line)
            if m:
                return m.group(1)
        found = await self._machine_with_address(model, address)
        if found is None:
            raise BackendError(
                f"juju add-machine {target} succeeded but no machine has the address {address}.",
                hint=f"Check `juju machines -m {model}`.",
            )
        return found

    async def _machine_with_address(self, model: str, address: str) -> str | None:
        st = await self._source(model).parsed()
        for mid, m in st.machines.items():
            if address == m.dns_name or address in m.ip_addresses:
                return mid
        return None

    # -- status ------------------------------------------------------------------------------

    def _source(self, model: str) -> StatusSource:
        """The shared status of `model` (juju_status.py): one `juju status` at a time for all
        the steps asking, answers reused for `poll_interval` unless we changed the model."""
        key = self._model(model)
        source = self._sources.get(key)
        if source is None:
            async def fetch(apps: Wanted) -> jubilant.Status:
                return await self._fetch_status(model, apps)

            source = self._sources[key] = StatusSource(model, fetch, max_age=self.poll_interval)
        source.max_age = self.poll_interval  # tests tune it after construction
        return source

    def _invalidate(self, model: str) -> None:
        source = self._sources.get(self._model(model))
        if source is not None:
            source.invalidate()

    async def _fetch_status(self, model: str, apps: Wanted) -> jubilant.Status:
        """`juju status --format json [APP...]` (Juju filters by exact application, unit or
        machine names), parsed by jubilant."""
        st = await self._parsed_status(model, apps)
        if apps is not None:
            # A subordinate's units are listed under its principals' units: should Juju leave
            # the principals out of a filtered status, ask again with them.
            principals = missing_principals(st)
            if principals:
                st = await self._parsed_status(model, apps | principals)
        return st

    async def _parsed_status(self, model: str, apps: Wanted) -> jubilant.Status:
        import jubilant

        what = f"status -m {model}"
        selectors = sorted(apps) if apps is not None else []
        out = await self._cli(what, "status", "--format", "json", *selectors, model=model)
        data = self._parse_json(what, out)
        try:
            return jubilant.Status._from_dict(data)
        except (KeyError, TypeError, ValueError) as e:
            raise BackendError(
                f"juju {what} printed JSON the installer does not understand ({e!r} missing "
                "or wrong).",
                hint="Check the juju version (3.6 is expected).",
            ) from None

    async def status(self, model: str, apps: Collection[str] | None = None) -> ModelStatus:
        """The status of `model`, only of `apps` when given (see StatusSource)."""
        return await self._source(model).status(apps)

    # -- applications ------------------------------------------------------------------------

    async def deploy(
        self,
        model: str,
        app: str,
        charm: str,
        *,
        channel: str,
        revision: int | None = None,
        config: Mapping[str, object] | None = None,
        trust: bool = False,
        num_units: int = 1,
        to: Sequence[str] = (),
        base: str | None = None,
    ) -> None:
        args = ["deploy", charm, app]
        if base is not None:
            args += ["--base", base]
        args += ["--channel", channel]
        for k, v in (config or {}).items():
            args += ["--config", _config_arg(k, _config_value(k, v))]
        # num_units=0 is a subordinate (its units follow its principal's): Juju refuses
        # --num-units (and --to) for one ("cannot use --num-units or --to with subordinate
        # application"), so it is left out, as `juju deploy` of a subordinate is written.
        if num_units > 1:
            args += ["--num-units", str(num_units)]
        if revision is not None:
            args += ["--revision", str(revision)]
        if to:
            args += ["--to", ",".join(to)]
        if trust:
            args.append("--trust")
        await self._cli(f"deploy {app}", *args, model=model, ok_if_exists=True)

    async def add_unit(self, model: str, app: str, *, to: str) -> None:
        """One more unit of `app` on machine `to` (empty: where Juju likes). The calls for one
        application at the same time go out as one `juju add-unit APP -n N --to A,B,...`
        (juju_batch.py); after a batch that failed, a machine with a unit of `app` counts as
        done (callers ask only for machines that had none: AddUnit's done())."""
        if not to:
            await self._cli(f"add-unit {app}", "add-unit", app, model=model)
            return
        key = (self._model(model), app)
        batcher = self._batchers.get(key)
        if batcher is None:
            async def send(machines: Sequence[str]) -> None:
                count = ["--num-units", str(len(machines))] if len(machines) > 1 else []
                await self._cli(f"add-unit {app}", "add-unit", app, *count,
                                "--to", ",".join(machines), model=model)

            async def placed() -> set[str]:
                a = (await self.status(model, [app])).apps.get(app)
                return {u.machine for u in a.units.values() if u.machine} if a else set()

            batcher = self._batchers[key] = UnitBatcher(send, placed)
        await batcher.add(to)

    async def refresh(
        self, model: str, app: str, *, channel: str, revision: int | None = None
    ) -> None:
        args = ["refresh", app, "--channel", channel]
        if revision is not None:
            args += ["--revision", str(revision)]
        try:
            await self._cli(f"refresh {app}", *args, model=model)
        except BackendError as e:
            # Already at that channel/revision: the wanted state.
            if "already running charm" in e.message:
                return
            raise

    async def config(self, model: str, app: str, values: Mapping[str, object]) -> None:
        pairs = [_config_arg(k, _config_value(k, v)) for k, v in values.items()]
        await self._cli(f"config {app}", "config", app, *pairs, model=model)

    async def integrate(self, model: str, a: str, b: str) -> None:
        await self._cli(f"integrate {a} {b}", "integrate", a, b, model=model, ok_if_exists=True)

    async def offer(self, model: str, endpoint: str, name: str) -> None:
        app, sep, ep = endpoint.partition(":")
        if not sep or not ep:
            raise BackendError(
                f"The offer endpoint {endpoint!r} is not of the form app:endpoint.",
                hint="Write it as e.g. keystone-k8s:identity-credentials.",
            )
        # `juju offer` takes no --model: the model is part of the offered endpoint.
        controller, _, model_name = self._model(model).rpartition(":")
        args = ["offer", f"{model_name}.{app}:{ep}"]
        if controller:
            args += ["--controller", controller]
        await self._cli(f"offer {endpoint}", *args, name, ok_if_exists=True)

    async def consume(self, model: str, url: str, alias: str) -> None:
        await self._cli(f"consume {url}", "consume", url, alias, model=model, ok_if_exists=True)

    async def run_action(
        self, model: str, unit: str, action: str, params: Mapping[str, object] | None = None
    ) -> dict[str, object]:
        """Run `action` on `unit` (``app/leader`` allowed), wait for it, return its results."""
        import jubilant
        import yaml

        what = f"{action} on {unit}"
        args = ["run", "--format", "json", unit, action, "--wait", f"{self.action_wait:g}s"]
        if params is None:
            output = await self._capture(*args, model=model)
        else:
            # A 0600 file, not the command line: parameters may hold a password.
            with tempfile.NamedTemporaryFile(
                "w", prefix="juju-params-", suffix=".yaml", dir=self._params_dir()
            ) as params_file:
                yaml.safe_dump(dict(params), params_file)
                params_file.flush()
                output = await self._capture(*args, "--params", params_file.name, model=model)
        stdout, stderr = output.stdout, output.stderr
        if output.returncode != 0:
            if "timed out" in stderr:
                # The action was queued and may still run (or have run): sending it again
                # could do its work twice (add-osd on a disk that is already an OSD). Not
                # transient: the operator checks the task, and a resumed step's done() sees it.
                queued = re.search(r"\btask (\d+)", stdout + "\n" + stderr)
                task_text = f" (task {queued.group(1)})" if queued else ""
                show = f"`juju show-task {queued.group(1)}`" if queued else "`juju operations`"
                raise BackendError(
                    f"juju {what} did not finish within {self.action_wait:g} s{task_text}; it "
                    "may still be running, so it is not sent again.",
                    hint=f"{show} -m {self._model(model)} shows whether it finished; then "
                    "resume the install.",
                )
            if "(not found)" in stderr:
                raise BackendError(
                    f"juju {what} failed: {_last_line(stderr)}",
                    hint="Check the unit and action names.",
                )
            # With a failed task juju exits non-zero and still prints the task.
            if "task failed" not in stderr:
                raise self._error(what, stderr or stdout, output.returncode)
        results = self._parse_json(what, stdout) if stdout.strip() else {}
        if not results:
            raise BackendError(
                f"juju {what} failed: {_last_line(stderr) or 'no task was reported'}",
                hint="Check the unit and action names.",
            )
        try:
            # Keyed by the unit that ran it: app/leader comes back as app/N.
            task = jubilant.Task._from_dict(next(iter(results.values())))
        except (KeyError, TypeError, AttributeError) as e:
            raise BackendError(
                f"juju {what} printed a task the installer does not understand ({e!r}).",
                hint="Check the juju version (3.6 is expected).",
            ) from None
        if not task.success:
            msg = task.message or _last_line("\n".join(task.log)) or task.status
            raise BackendError(
                f"The juju action {what} failed: {msg}",
                hint="See `juju show-operation` for the full action output.",
            )
        return dict(task.results)

    # -- day two (a converge) ------------------------------------------------------------------

    async def scale_application(self, model: str, app: str, units: int) -> None:
        await self._cli(f"scale-application {app}", "scale-application", app, str(units),
                        model=model)

    async def remove_unit(self, model: str, unit: str) -> None:
        # --no-prompt: Juju 3 asks for confirmation on a terminal; nobody answers here.
        await self._cli(f"remove-unit {unit}", "remove-unit", unit, "--no-prompt", model=model)

    async def remove_machine(self, model: str, machine: str) -> None:
        await self._cli(f"remove-machine {machine}", "remove-machine", machine, "--no-prompt",
                        model=model)

    async def remove_application(self, model: str, app: str) -> None:
        await self._cli(f"remove-application {app}", "remove-application", app, "--no-prompt",
                        model=model)

    async def remove_relation(self, model: str, a: str, b: str) -> None:
        await self._cli(f"remove-relation {a} {b}", "remove-relation", a, b, model=model)

    async def wait_settled(
        self, model: str, apps: Sequence[str], *, progress: ProgressFn, timeout: float
    ) -> None:
        """Wait until every unit of `apps` is active and idle, reporting units settled so far."""
        deadline = time.monotonic() + timeout
        error_since: dict[str, float] = {}
        last: tuple[str, float | None] | None = None
        while True:
            st = await self.status(model, apps)
            now = time.monotonic()
            units: list[UnitStatus] = []
            missing = [a for a in apps if a not in st.apps or not st.apps[a].units]
            for a in apps:
                if a in st.apps:
                    units.extend(st.apps[a].units.values())
            settled = [u for u in units if u.workload == "active" and u.agent == "idle"]
            total = len(units) + len(missing)
            fraction = len(settled) / total if total else 0.0
            waiting = [u for u in units if u not in settled]
            if not missing and not waiting:
                progress(f"{len(settled)}/{total} units active", 1.0)
                return
            first = waiting[0] if waiting else None
            if first is not None:
                detail = f"{first.name} {first.workload}"
                if first.message:
                    detail += f": {first.message}"
            else:
                detail = f"{missing[0]} has no units yet"
            report = (f"{len(settled)}/{total} units active; {detail}", round(fraction, 4))
            if report != last:
                progress(*report)
                last = report
            for u in units:
                if u.workload == "error" or u.agent == "error":
                    since = error_since.setdefault(u.name, now)
                    if now - since > self.error_grace:
                        raise BackendError(
                            f"The unit {u.name} has been in error for {self.error_grace:g} s: "
                            f"{u.message or 'no message'}.",
                            hint=f"See `juju debug-log -m {model} --include {u.name}`; fix the "
                            "cause and resume.",
                        )
                else:
                    error_since.pop(u.name, None)
            if now >= deadline:
                names = ", ".join(
                    f"{u.name} ({u.workload}/{u.agent}{': ' + u.message if u.message else ''})"
                    for u in waiting[:5]
                ) or ", ".join(missing[:5])
                raise BackendError(
                    f"Applications in model {model} did not settle within {timeout:g} s: {names}.",
                    hint=f"Check `juju status -m {model}`; resume when they are active.",
                    transient=False,
                )
            await asyncio.sleep(min(self.poll_interval, max(deadline - now, 0.0)))

