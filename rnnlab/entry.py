"""The `rnnlab` console script. It imports almost nothing before it has taken over Ctrl-C and
SIGTERM, so a signal at any moment, even while the libraries load, ends in one line and the
shell's exit code (130 interrupted, 143 terminated) instead of a traceback."""

from __future__ import annotations

import signal
import sys
from types import FrameType

from rnnlab.errors import Terminated


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise Terminated()


def console_main() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    try:
        from rnnlab.cli import main

        code = main()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        code = 130
    except Terminated:
        print("terminated", file=sys.stderr)
        code = 143
    sys.exit(code)


if __name__ == "__main__":
    console_main()
