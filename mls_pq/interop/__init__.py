"""Live interoperability peers: other MLS implementations driven from Python.

Only :mod:`mls_pq.interop.tsmls` (the TypeScript ts-mls, via Node.js) so far. Nothing
here is imported by the core library; importing this package starts nothing.
"""

from __future__ import annotations

from .tsmls import (
    AddResult,
    InteropError,
    NodeNotFoundError,
    PeerError,
    ProcessResult,
    TsMlsInstallError,
    TsMlsPeer,
)

__all__ = [
    "AddResult",
    "InteropError",
    "NodeNotFoundError",
    "PeerError",
    "ProcessResult",
    "TsMlsInstallError",
    "TsMlsPeer",
]
