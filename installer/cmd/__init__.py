"""One module per subcommand: `add_arguments(parser)` and `run(args) -> int`.

Modules here import only the standard library and `installer`/`manifests` at module level; the
heavy libraries (Textual, asyncssh, lightkube, jubilant) are imported inside `run` so that
`--help`, `validate` and `plan` start fast.
"""
