"""`python -m stacks`: the project CLI, tuned for a short-lived process.

The offline plan allocates millions of small objects (the provider SDKs' classes, Outputs)
and frees none of them before it exits, so the cyclic garbage collector only costs time (it
halves the plan's wall time to switch it off) and so does tearing the interpreter down.
"""

import gc
import os
import sys

gc.disable()

from . import cli  # noqa: E402  (after disabling the collector: imports allocate most)


class _ReaderMayLeave:
    """stdout that goes quiet once its reader has gone (`plan dev | head -1`): the command
    still finishes, so its exit code is the documented one, and no traceback is printed."""

    def __init__(self, stream) -> None:
        self._stream, self._gone = stream, False

    def write(self, text: str) -> int:
        if not self._gone:
            try:
                self._stream.write(text)
            except BrokenPipeError:
                self._gone = True
        return len(text)

    def flush(self) -> None:
        if not self._gone:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._gone = True

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def main() -> int:
    sys.stdout = _ReaderMayLeave(sys.stdout)
    if sys.argv[1:2] == [] or sys.argv[1] not in cli.OFFLINE_COMMANDS:
        cli.register_operations()  # the offline commands never import the AWS SDK
    try:
        cli.app()
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
