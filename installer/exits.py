"""Exit codes of the command-line contract (DESIGN.md)."""

from enum import IntEnum


class Exit(IntEnum):
    OK = 0
    INVALID = 1  # invalid input: answers file, preflight errors
    USAGE = 2  # usage error, or a command this build does not offer yet
    STEP_FAILED = 3  # a step failed; the run can be resumed
    PREREQUISITE = 4  # needs root or a missing prerequisite
    INTERRUPTED = 130  # interrupted; resumable


def exit_for(outcome: str | None) -> Exit:
    """The exit code of a run that ended with `outcome` (PlanFinished's): done is OK,
    interrupted is resumable (130), anything else is a failed step."""
    if outcome == "done":
        return Exit.OK
    if outcome == "interrupted":
        return Exit.INTERRUPTED
    return Exit.STEP_FAILED


class UserError(Exception):
    """An error in what the user gave us: printed as one message, never as a traceback."""

    def __init__(self, message: str, code: Exit = Exit.INVALID) -> None:
        super().__init__(message)
        self.code = code
