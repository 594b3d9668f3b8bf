"""ProtocolVersion (RFC 9420 §6): ``enum { reserved(0), mls10(1), (65535) } ProtocolVersion``.

The one home of the version constant; every struct that carries a ``version`` field
(MLSMessage, KeyPackage, GroupContext, ReInit) and every capability check imports it from here.
"""

from __future__ import annotations

from typing import Final

#: ``mls10`` (RFC 9420 §6, §17.1 "MLS Protocol Versions")
PROTOCOL_VERSION_MLS10: Final = 1

__all__ = ["PROTOCOL_VERSION_MLS10"]
