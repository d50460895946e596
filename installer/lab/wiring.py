"""Wiring: what a unit shows while its charm's mandatory relations are missing.

Pure functions over the lab's models, shared by the cluster and its status index."""

from __future__ import annotations

from installer.lab.state import AppState, ModelState


def endpoint_related(state_models: dict[str, ModelState], model: str, endpoint: str) -> bool:
    """Whether `app:endpoint` of `model` takes part in a relation: in its own model, or through
    an offer of it consumed (under some alias) by another model."""
    m = state_models[model]
    if any(endpoint in r for r in m.relations):
        return True
    ep_name = endpoint.split(":", 1)[1]
    for offer, offered in m.offers.items():
        if offered != endpoint:
            continue
        for other in state_models.values():
            for alias, url in other.consumed.items():
                if url.rsplit("/", 1)[-1] == f"{model}.{offer}" and any(
                    f"{alias}:{ep_name}" in r for r in other.relations
                ):
                    return True
    return False


def wiring_status(
    state_models: dict[str, ModelState], model: str, app_name: str, app: AppState
) -> tuple[str, str, str] | None:
    """(workload, message, what is missing) of a settled unit of `app` whose charm lacks a
    mandatory relation, as that charm reports it; None when its wiring is complete."""
    from installer.lab.charms import meta

    info = meta(app.charm)
    if info is None:
        return None
    for ep in info.mandatory:
        if not endpoint_related(state_models, model, f"{app_name}:{ep}"):
            if info.ops_sunbeam:
                return "blocked", f"({ep}) integration missing", ep
            # mysql-router: the application is blocked, the unit waits with no message.
            return "waiting", "", f"Missing relation: {ep}"
    for ep, (status, message) in info.extra.items():
        if not endpoint_related(state_models, model, f"{app_name}:{ep}"):
            return status, message, ep
    return None
