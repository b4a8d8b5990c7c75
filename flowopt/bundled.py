"""Where the bundled park data live (no heavy imports: the command line reads this first).

``FLOWOPT_DATA`` points flowopt at another default scenario folder.
"""

from __future__ import annotations

import os
from pathlib import Path

#: File name of a pathway looked for in a scenario folder.
PATHWAY_FILE = "pathway.yaml"


def default_data_dir() -> Path:
    """Return the bundled park dataset (``data/panzhihua_east``), or ``FLOWOPT_DATA`` if set."""
    env = os.environ.get("FLOWOPT_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "data" / "panzhihua_east"
