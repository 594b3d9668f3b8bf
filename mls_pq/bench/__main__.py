"""``python -m mls_pq.bench [options]``: the same as ``mls-pq bench``."""

from .cli import main

raise SystemExit(main())
