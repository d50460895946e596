"""The simulated lab behind `--dry-run`: see installer/lab/lab.py and docs/dry-run.md."""

from installer.lab.faults import Fault, FaultSpecError, parse_faults
from installer.lab.lab import Lab
from installer.lab.profile import default_facts
from installer.lab.timing import DEFAULT_TIME_SCALE

__all__ = ["DEFAULT_TIME_SCALE", "Fault", "FaultSpecError", "Lab", "default_facts", "parse_faults"]
