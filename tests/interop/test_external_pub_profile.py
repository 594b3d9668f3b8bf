"""The ``external_pub`` extension (RFC 9420 §12.4.3.2) under the code-point profiles.

ts-mls 1.6.4 writes ``ExternalPub`` as the bare public key, without the ``HPKEPublicKey``
(``opaque<V>``) length prefix. :func:`mls_pq.group.welcome.parse_external_pub` reads that
form only for a suite with the ``BARE_EXTERNAL_PUB`` quirk, which only the ``ts-mls-1.6``
profile gives its suites; the default profile stays strict, and both read
the RFC form. No Node.js needed (the live counterpart is in test_interop_matrix.py).
"""

from __future__ import annotations

import pytest

from mls_pq.errors import DecodeError
from mls_pq.extensions import EXTERNAL_PUB, Extension
from mls_pq.group.welcome import external_pub_extension, parse_external_pub
from mls_pq.suites import get_suite
from mls_pq.suites.cipher_suite import BARE_EXTERNAL_PUB
from mls_pq.suites.registry import PROFILE_QUIRKS


@pytest.mark.parametrize("suite_id", [1, 2, 5])
def test_bare_key_only_under_the_tsmls_profile(suite_id: int) -> None:
    ts, default = get_suite(suite_id, "ts-mls-1.6"), get_suite(suite_id, "default")
    assert {p for p, q in PROFILE_QUIRKS.items() if BARE_EXTERNAL_PUB in q} == {"ts-mls-1.6"}
    assert BARE_EXTERNAL_PUB in ts.quirks and not default.quirks
    _, pk = ts.kem.derive_key_pair(bytes(range(32)))  # fixed: pk[0] is no valid opaque<V> length
    assert len(pk) == ts.kem.n_pk and pk[0] != len(pk) - 1
    rfc = external_pub_extension(pk)
    assert len(rfc.extension_data) > len(pk) and rfc.extension_data.endswith(pk)
    bare = Extension(EXTERNAL_PUB, pk)
    for suite in (ts, default, None):
        assert parse_external_pub(rfc, suite) == pk  # the RFC form everywhere
    assert parse_external_pub(bare, ts) == pk
    for suite in (default, None):  # strict: the bare key is not an opaque<V>
        with pytest.raises(DecodeError, match="malformed external_pub"):
            parse_external_pub(bare, suite)


def test_tolerance_is_limited_to_the_key_length() -> None:
    """Under ts-mls-1.6 only data of exactly the KEM's public-key length is a bare key;
    anything else still has to be a well-formed opaque<V>."""
    ts = get_suite(1, "ts-mls-1.6")
    _, pk = ts.kem.derive_key_pair(bytes(range(32)))
    for data in (pk[:-1], pk + b"\x00"):
        with pytest.raises(DecodeError):
            parse_external_pub(Extension(EXTERNAL_PUB, data), ts)
