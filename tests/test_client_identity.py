"""``Client.generate`` takes the identity as octets (RFC 9420 §5.3) and says so otherwise."""

from __future__ import annotations

import pytest

from mls_pq.client import Client


def test_str_identity_is_a_type_error_that_says_what_to_pass() -> None:
    with pytest.raises(TypeError, match=r"identity must be bytes .*'dave'\.encode\(\)"):
        Client.generate(1, "dave")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="got int"):
        Client.generate(1, 7)  # type: ignore[arg-type]


def test_bytes_identity_is_accepted() -> None:
    c = Client.generate(1, b"dave")
    assert c.credential.identity == b"dave"
