"""``python -m mls_pq``: the same as the ``mls-pq`` command."""

from .cli import main

raise SystemExit(main())
