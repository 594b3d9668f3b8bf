"""Make mls-pq and the plugin importable from a source checkout when they are not pip-installed."""

from __future__ import annotations

import sys
from pathlib import Path

_PLUGIN = Path(__file__).resolve().parent.parent
_REPO = _PLUGIN.parent.parent  # suites/mls-pq-slhdsa -> the mls-pq checkout

try:
    import mls_pq  # noqa: F401
except ImportError:
    if (_REPO / "mls_pq" / "__init__.py").exists():
        sys.path.insert(0, str(_REPO))

try:
    import mls_pq_slhdsa  # noqa: F401
except ImportError:
    sys.path.insert(0, str(_PLUGIN))
