"""`python -m stacks`: the project CLI, tuned for a short-lived process.

The offline plan allocates millions of small objects (the provider SDKs' classes, Outputs)
and frees none of them before it exits, so the cyclic garbage collector only costs time (it
halves the plan's wall time to switch it off) and so does tearing the interpreter down.
"""

import gc
import os
import sys

gc.disable()

from .cli import app  # noqa: E402  (after disabling the collector: imports allocate most)


def main() -> int:
    try:
        app()
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
