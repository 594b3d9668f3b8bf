"""Library logging under the ``mls_pq`` logger: silent unless the application configures it.

The library adds a :class:`logging.NullHandler` to ``mls_pq`` (so nothing reaches Python's
last-resort stderr handler) and never configures handlers or levels itself — the application
does, e.g. ``logging.basicConfig(level=logging.INFO)``.

What is logged (logger ``mls_pq.group``):

* ``INFO`` — an epoch change: group id (hex, its first 8 octets), old and new epoch, and why
  (a processed commit, our merged commit);
* ``INFO`` — a rejected message: the group, the epoch, the error class and its message (which
  names the RFC section it enforces, e.g. ``(RFC 9420 §12.2)``).

Never logged: secrets, keys, plaintexts, message bytes. Error messages of
:mod:`mls_pq.errors` carry no secret material by the project's rules, so they are logged as
they are.
"""

from __future__ import annotations

import logging

from .errors import MLSError

__all__ = ["epoch_changed", "logger", "rejected"]

logging.getLogger("mls_pq").addHandler(logging.NullHandler())

#: the group layer's logger
logger = logging.getLogger("mls_pq.group")


def _gid(group_id: bytes) -> str:
    return group_id[:8].hex() + ("…" if len(group_id) > 8 else "")


def epoch_changed(group_id: bytes, old: int, new: int, why: str) -> None:
    """Log an epoch change of a group (RFC 9420 §8)."""
    if logger.isEnabledFor(logging.INFO):
        logger.info("group %s: epoch %d -> %d (%s)", _gid(group_id), old, new, why)


def rejected(group_id: bytes, epoch: int, error: MLSError) -> None:
    """Log a rejected message with its error class and message."""
    if logger.isEnabledFor(logging.INFO):
        # the messages of mls_pq.errors already end with the section they enforce
        logger.info("group %s epoch %d: message rejected: %s: %s", _gid(group_id), epoch, type(error).__name__, error)
