"""`sgi browse [--db] [--port] [--no-open]`: the SQLite database in Datasette, with canned queries."""

from __future__ import annotations

import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Optional

import typer

from sgi.cli import DbOption, app, err


@app.command()
def browse(db: Optional[str] = DbOption,
           port: int = typer.Option(8001, "--port", help="loopback port for Datasette"),
           no_open: bool = typer.Option(False, "--no-open", help="do not open a web browser")):
    """Browse the database in Datasette (optional extra `browse`): tables with descriptions, and canned
    queries for a city's evidence and for the indicators that changed since the last run. Ctrl-C stops."""
    from sgi.browse import datasette_command, require_datasette, sqlite_file, write_metadata
    from storage.db import database_url, ensure_schema

    require_datasette()
    url = database_url(db)
    db_file = sqlite_file(url)
    ensure_schema(url)     # the queries name the latest tables (override, ...)
    with tempfile.TemporaryDirectory(prefix="sgi-browse-") as tmp:
        metadata = write_metadata(db_file, Path(tmp) / "metadata.json")
        err.print(f"Datasette on http://127.0.0.1:{port}/{db_file.stem} (canned queries: evidence_for_city, "
                  f"changed_since_last_run); Ctrl-C stops", highlight=False)
        server = subprocess.Popen(datasette_command(db_file, metadata, port, open_browser=not no_open))
        # SIGTERM (kill, systemd) ends us like Ctrl-C does: through the finally below, which stops
        # Datasette and removes the temporary folder. Python's default would exit at once and orphan it.
        signal.signal(signal.SIGTERM, _exit_on_signal)
        try:
            server.wait()
        except KeyboardInterrupt:
            pass
        finally:
            if server.poll() is None:     # our child: stop it with us
                server.terminate()
                server.wait(timeout=10)


def _exit_on_signal(signum, _frame):
    raise SystemExit(128 + signum)
