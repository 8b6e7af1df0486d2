"""Errors users see: one clear line plus a hint, never a bare traceback."""

from __future__ import annotations


class SgiError(Exception):
    """An error with a message for the user and an optional hint on what to do."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint


class ConfigError(SgiError):
    """A data file (sources, indicators, frameworks, lexicons) is invalid; the message names file and line."""

    def __init__(self, path: str, line: int | None, message: str, hint: str | None = None):
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {message}", hint)
        self.path = str(path)
        self.line = line


class Interrupted(Exception):
    """A crawl stopped by a signal (SIGINT, SIGTERM) before it finished: its run is closed as `failed`
    (resumable with `sgi crawl --resume`) and the command exits 128 + the signal's number (130 for SIGINT).
    Not a KeyboardInterrupt: click would turn that into "Aborted!" and exit 1."""

    def __init__(self, run_key: str | None, signum: int | None = None, resume: str = "sgi crawl --resume"):
        import signal

        self.run_key = run_key
        self.signum = signum or signal.SIGINT
        self.resume = resume     # the command that continues the run
        super().__init__(f"interrupted ({signal.Signals(self.signum).name})")

    @property
    def exit_code(self) -> int:
        return 128 + int(self.signum)
