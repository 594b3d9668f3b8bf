"""The public-boundary argument checks (issue 10: "input types checked at the boundary with a
clear TypeError/MLSError")."""

from __future__ import annotations

from collections.abc import Callable

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


def test_group_entry_points_refuse_wrong_types_with_a_named_type_error() -> None:
    """The public Group/Client entry points check their inputs at the boundary (issue 10)."""
    from mls_pq import Client, Group, get_suite

    cs = get_suite(0x0001)
    a = Client.generate(cs, b"a")
    g = Group.create(cs, b"g", a.credential, a.signature_priv)
    before = g.to_bytes()
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: g.process("abc"), "data must be bytes, not str"),  # type: ignore[arg-type]
        (lambda: g.process(bytearray(b"\x00\x01")), "data must be bytes, not bytearray"),  # type: ignore[arg-type]
        (lambda: g.encrypt("hi"), "data must be bytes, not str"),  # type: ignore[arg-type]
        (lambda: g.commit(add=["kp"]), r"add\[0\] must be KeyPackage bytes or a KeyPackage, not str"),  # type: ignore[list-item]
        (lambda: g.commit(remove=["1"]), r"remove\[0\] must be an int, not str"),  # type: ignore[list-item]
        (lambda: g.export_secret(5, b"", 32), "label must be str or bytes, not int"),  # type: ignore[arg-type]
        (lambda: g.export_secret("l", b"", "32"), "length must be an int, not str"),  # type: ignore[arg-type]
        (lambda: Group.join("w", []), "welcome must be bytes, not str"),  # type: ignore[arg-type]
        (lambda: Group.join_external(None, a.credential, a.signature_priv), "group_info must be bytes"),  # type: ignore[arg-type]
        (lambda: Group.create(cs, "g", a.credential, a.signature_priv), "group_id must be bytes, not str"),  # type: ignore[arg-type]
        (lambda: Group.create("x", b"g", a.credential, a.signature_priv), "suite must be a CipherSuite or a cipher suite id"),  # type: ignore[arg-type]
        (lambda: Group.from_bytes("x"), "data must be bytes, not str"),  # type: ignore[arg-type]
    ]
    for call, message in cases:
        with pytest.raises(TypeError, match=message):
            call()
    with pytest.raises(ValidationError, match=r"length must be \[0, 65535\].*§8\.5"):
        g.export_secret("l", b"", 1 << 16)
    assert g.to_bytes() == before  # nothing half-applied
