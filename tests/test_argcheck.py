"""The public-boundary argument checks (issue 10: "input types checked at the boundary with a
clear TypeError/MLSError")."""

from __future__ import annotations

import pytest

from mls_pq.argcheck import require_bytes, require_int, require_ints, require_optional_bytes, require_str_or_bytes
from mls_pq.errors import ValidationError


@pytest.mark.parametrize("bad", ["abc", bytearray(b"ab"), memoryview(b"ab"), None, 3, [1]])
def test_require_bytes_refuses_other_types_naming_the_parameter(bad: object) -> None:
    with pytest.raises(TypeError, match=rf"^data must be bytes, not {type(bad).__name__}$"):
        require_bytes(bad, "data")


def test_require_bytes_returns_the_same_object() -> None:
    b = b"\x00\x01"
    assert require_bytes(b, "x") is b
    assert require_optional_bytes(None, "x") is None
    assert require_optional_bytes(b, "x") is b
    with pytest.raises(TypeError, match="x must be bytes, not str"):
        require_optional_bytes("s", "x")


def test_require_str_or_bytes() -> None:
    assert require_str_or_bytes("l", "label") == "l"
    assert require_str_or_bytes(b"l", "label") == b"l"
    with pytest.raises(TypeError, match="label must be str or bytes, not int"):
        require_str_or_bytes(5, "label")


def test_require_int_types_and_ranges() -> None:
    assert require_int(7, "n", low=0, high=7) == 7
    with pytest.raises(TypeError, match="n must be an int, not bool"):
        require_int(True, "n")
    with pytest.raises(TypeError, match="n must be an int, not str"):
        require_int("3", "n")
    with pytest.raises(ValidationError, match=r"n must be \[0, 7\], got 8 \(RFC 9420 §8\.5\)"):
        require_int(8, "n", high=7, section="8.5")
    with pytest.raises(ValidationError, match="n must be >= 1, got 0"):
        require_int(0, "n", low=1)


def test_require_ints() -> None:
    assert require_ints((1, 2), "remove") == [1, 2]
    with pytest.raises(TypeError, match=r"remove\[1\] must be an int, not str"):
        require_ints([1, "2"], "remove")
    with pytest.raises(TypeError, match="remove must be an iterable of ints, not str"):
        require_ints("12", "remove")
