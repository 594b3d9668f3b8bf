"""TLS presentation codec (RFC 9420 §2.1.2): varints, vectors, optionals, errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mls_pq.codec import Reader, Writer, encode_varint
from mls_pq.errors import DecodeError


@pytest.mark.parametrize(
    "n, enc",
    # RFC 9000 §A.1 examples restricted to RFC 9420's 1/2/4-byte forms
    [(37, "25"), (15293, "7bbd"), (494878333, "9d7f3e7d"), (0, "00"), (63, "3f"), (64, "4040"), (16383, "7fff"), (16384, "80004000")],
)
def test_varint_known_encodings(n: int, enc: str) -> None:
    assert encode_varint(n).hex() == enc
    assert Reader(bytes.fromhex(enc)).varint() == n


@given(st.integers(min_value=0, max_value=(1 << 30) - 1))
def test_varint_roundtrip(n: int) -> None:
    r = Reader(encode_varint(n))
    assert r.varint() == n
    r.done()


def test_varint_limit() -> None:
    with pytest.raises(ValueError):
        encode_varint(1 << 30)


@pytest.mark.parametrize(
    "data, why",
    [
        ("4025", "not minimal (2-byte form of 37)"),
        ("80000025", "not minimal (4-byte form of 37)"),
        ("80003fff", "not minimal (4-byte form of 16383)"),
        ("c000000000000001", "8-byte form is forbidden by RFC 9420 §2.1.2"),
        ("40", "short"),
        ("", "empty"),
    ],
)
def test_varint_rejects(data: str, why: str) -> None:
    with pytest.raises(DecodeError):
        Reader(bytes.fromhex(data)).varint()


def test_opaque_and_vector_roundtrip() -> None:
    w = Writer().opaque(b"abc").vector([1, 2, 3], lambda w, x: w.uint16(x)).optional(None, Writer.uint8).optional(7, Writer.uint32)
    data = w.getvalue()
    assert data.hex() == "03616263" + "06000100020003" + "00" + "0100000007"
    r = Reader(data)
    assert r.opaque() == b"abc"
    assert r.vector(Reader.uint16) == [1, 2, 3]
    assert r.optional(Reader.uint8) is None
    assert r.optional(Reader.uint32) == 7
    r.done()


def test_decode_errors_are_typed() -> None:
    with pytest.raises(DecodeError):
        Reader(bytes.fromhex("05616263")).opaque()  # length 5, only 3 bytes
    with pytest.raises(DecodeError):
        Reader(bytes.fromhex("0300")).vector(Reader.uint16)  # 3-byte body, items of 2 -> short
    with pytest.raises(DecodeError):
        Reader(bytes.fromhex("02")).optional(Reader.uint8)  # presence octet must be 0 or 1
    r = Reader(b"\x00\x01")
    r.uint8()
    with pytest.raises(DecodeError):
        r.done()  # trailing byte


@given(st.binary(max_size=64))
def test_fuzz_reader_only_raises_decode_error(data: bytes) -> None:
    r = Reader(data)
    try:
        while r.remaining():
            r.opaque()
    except DecodeError:
        pass
