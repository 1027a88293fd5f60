"""Entry point Pulumi runs for the workloads layer; everything lives in `stacks/`."""

import sys
from pathlib import Path

# Pulumi runs this from workloads/; the project's packages live one level up.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stacks import workloads

workloads.program()
