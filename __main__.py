"""Entry point Pulumi runs; everything lives in `stacks/`."""

import stacks

stacks.program()
