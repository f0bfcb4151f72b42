"""The ``vidseek`` command line: Typer + Rich, ``--json`` everywhere.

Commands parse arguments, call the library and render the result. One module per command
group; :mod:`vidseek.cli.app` holds the Typer app and the options and helpers they share:

* :mod:`~vidseek.cli.media`: ``probe``, ``shots``, ``frames`` (a video file, no library)
* :mod:`~vidseek.cli.synth`: ``synth``
* :mod:`~vidseek.cli.indexing`: ``index``
* :mod:`~vidseek.cli.videos`: ``list``, ``show``, ``remove``, ``export``
* :mod:`~vidseek.cli.search`: ``search``
* :mod:`~vidseek.cli.ask`: ``ask``
* :mod:`~vidseek.cli.evaluation`: ``eval``, ``bench needle``
* :mod:`~vidseek.cli.serving`: ``serve``, ``mcp``
* :mod:`~vidseek.cli.models`: ``models``, ``models download``

JSON output goes through :mod:`vidseek.views`, as the REST API's and the MCP tools' do.
"""

import os

# NumPy's BLAS threads spin against the analyzers' and model servers' own threads: a product
# of a few hundred rows took 10-40 ms instead of 1-4 ms on a busy 2-core machine
# (docs/decisions.md). Set before anything imports NumPy; a user's own setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

# Importing a command module registers its commands on the app: this order is --help's.
# isort: off
from vidseek.cli import media, synth, indexing, models, videos  # noqa: F401
from vidseek.cli import search, ask, evaluation, serving  # noqa: F401
# isort: on
from vidseek.cli.app import app, main

__all__ = ["app", "main"]
