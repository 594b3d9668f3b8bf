"""Shared body of the decoder targets (``fuzz_decode_*.py``).

A decoder target is one ``check(suite, payload)`` function: it decodes ``payload`` (and runs the
suite-dependent checks), raising only :class:`mls_pq.errors.MLSError`. :func:`decoder_target`
wraps it into libFuzzer's ``one_input``: the input's first two octets pick the suite's world
(:func:`worlds.pick`), the rest is the payload; accepted and rejected inputs are counted, and any
other exception propagates for libFuzzer to record.

Import after :func:`_harness.instrumented` (this module imports mls_pq).

Written by hand: glue between atheris and the library, nothing a library provides.
"""

from __future__ import annotations

from collections.abc import Callable

from _harness import COUNTER
from mls_pq.errors import MLSError
from mls_pq.suites import CipherSuite, get_suite
from worlds import load_worlds, pick

Check = Callable[[CipherSuite, bytes], None]


def decoder_target(check: Check) -> Callable[[bytes], None]:
    """``one_input`` of a decoder target: ``check`` the payload under the world's suite."""
    worlds = load_worlds()
    suites = {w.suite: get_suite(w.suite) for w in worlds}

    def one_input(data: bytes) -> None:
        w, payload = pick(worlds, data)
        try:
            check(suites[w.suite], payload)
        except MLSError:
            COUNTER.rejected += 1
        else:
            COUNTER.accepted += 1
        COUNTER.tick()

    return one_input
