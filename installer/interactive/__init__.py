"""The interactive model: the Textual-free objects the TUI (screens/) and plain mode drive.

Laid out as subiquity lays out its models and controllers:

- `notices`: what validation found (`Notice`) and the one error type raised (`SessionError`);
- `draft`: the answers as they are being filled in (`Draft`), and partial answers files;
- `fields`: the checks of single fields as they are typed, and the role rules;
- `probing`: where host facts come from (`Prober`s) and what is read from them;
- `install`: the guided install's `Session` (probe, validate, plan, save, run);
- `upgrade`: the guided upgrade's `UpgradeSession` (detect, target, changes, preflight, run).

Nothing here imports Textual (tests/test_import_hygiene.py checks it).
"""
