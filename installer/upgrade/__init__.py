"""Upgrade a deployed cloud to a newer OpenStack release (issue 7).

detect (what runs now) -> targets (which releases it may move to, and what changes) ->
preflight (is it safe now) -> planner (the steps, in OpenStack's order) -> the install runner.
Modules import only what they need so `--help` stays fast; see docs/upgrade.md.
"""
