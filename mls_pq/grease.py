"""GREASE (RFC 9420 §13.5): random reserved values in capabilities and extension lists.

A client that lists GREASE values it does not understand checks that its peers ignore
unknown values, as §13.5 asks of every implementation. :func:`grease_capabilities`,
:func:`grease_extension` and :func:`grease_leaf` add them to hand-made capabilities, leaf
extensions and GroupInfo/KeyPackage extension lists; ``make_key_package(grease=True)`` and the
``grease`` options of :class:`~mls_pq.group.Group` use them. Nothing here imports the group
state machine: it sits below :mod:`mls_pq.group` and :mod:`mls_pq.client`.
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence

from .extensions import GREASE_VALUES, Extension
from .messages.leaf_node import Capabilities

_RNG = random.SystemRandom()
_GREASE = sorted(GREASE_VALUES)


def grease_capabilities(caps: Capabilities, *, extensions: Sequence[int] = ()) -> Capabilities:
    """``caps`` plus one or two random GREASE values in each of cipher_suites, extensions,
    proposals and credentials (§13.5), and the GREASE ``extensions`` types (those of GREASE
    extensions the leaf or KeyPackage will carry, which must be listed, §7.2, §10)."""

    def add(items: tuple[int, ...], extra: Sequence[int] = ()) -> tuple[int, ...]:
        picks = _RNG.sample(_GREASE, _RNG.randint(1, 2))
        return tuple(dict.fromkeys((*items, *extra, *picks)))

    return Capabilities(
        caps.versions,
        add(caps.cipher_suites),
        add(caps.extensions, extensions),
        add(caps.proposals),
        add(caps.credentials),
    )


def grease_extension(extension_type: int | None = None, *, besides: Sequence[Extension] = ()) -> Extension:
    """An extension of a (random) GREASE type with 0-15 random octets (§13.5 allows any data),
    of a type none of ``besides`` has (§13.5: no extension type twice in one list)."""
    if extension_type is None:
        taken = {e.extension_type for e in besides}
        extension_type = _RNG.choice([g for g in _GREASE if g not in taken])
    return Extension(extension_type, os.urandom(_RNG.randrange(16)))


def grease_leaf(caps: Capabilities, leaf_extensions: Sequence[Extension] = ()) -> tuple[Capabilities, tuple[Extension, ...]]:
    """GREASEd capabilities and leaf extensions for a LeafNode: a GREASE leaf extension is
    added and its type listed in the capabilities (§13.5 "need to be reflected")."""
    ext = grease_extension(besides=leaf_extensions)
    return grease_capabilities(caps, extensions=(ext.extension_type,)), (*leaf_extensions, ext)


__all__ = ["grease_capabilities", "grease_extension", "grease_leaf"]
