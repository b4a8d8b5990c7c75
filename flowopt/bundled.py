"""Where the bundled park data live (no heavy imports: the command line reads this first).

The scenarios are edited in the repository's top-level ``data/`` folder. A wheel (``pip install
.``) ships that folder inside the package as ``flowopt/bundled_data`` (a setuptools
``package-dir`` mapping in ``pyproject.toml``), so an installed flowopt finds its data from any
working directory; a checkout or an editable install reads ``data/`` itself.

``FLOWOPT_DATA`` points flowopt at another default scenario folder.
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

#: File name of a pathway looked for in a scenario folder.
PATHWAY_FILE = "pathway.yaml"
#: The bundled scenario that commands use when none is given.
DEFAULT_SCENARIO = "panzhihua_east"


def bundled_root() -> Path:
    """Return the folder holding the bundled scenarios (``panzhihua_east``, ``panzhihua_east_2023``).

    Returns:
        ``flowopt/bundled_data`` inside an installed package (read through
        :mod:`importlib.resources`), else the checkout's top-level ``data/`` folder.
    """
    packaged = files("flowopt").joinpath("bundled_data")
    if isinstance(packaged, Path) and (packaged / DEFAULT_SCENARIO).is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "data"


def default_data_dir() -> Path:
    """Return the bundled park dataset (``panzhihua_east``), or ``FLOWOPT_DATA`` if set."""
    env = os.environ.get("FLOWOPT_DATA")
    if env:
        return Path(env)
    return bundled_root() / DEFAULT_SCENARIO


def version() -> str:
    """Return flowopt's version: the installed distribution's, else the package's own."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("flowopt")
    except PackageNotFoundError:  # a checkout on sys.path, not installed
        from flowopt import __version__

        return __version__
