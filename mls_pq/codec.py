"""TLS presentation language codec as profiled by RFC 9420 §2.1.2.

Variable-size vectors carry a QUIC-style variable-length integer (RFC 9000 §16) as their
length prefix, restricted by RFC 9420 to the 1-, 2- and 4-byte forms (lengths < 2^30).
Decoders enforce the minimum-length encoding, reject the 8-byte form, short input and
trailing bytes, and raise :class:`mls_pq.errors.DecodeError` for all of them.

Wire structs in this package are frozen dataclasses that subclass :class:`Struct` and
implement ``encode(w)`` and ``decode(r)`` next to their fields.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar, Self, TypeVar

from .errors import DecodeError

T = TypeVar("T")

MAX_VARINT = (1 << 30) - 1


def encode_varint(n: int) -> bytes:
    """Encode ``n`` with the shortest of the 1/2/4-byte forms (RFC 9420 §2.1.2)."""
    if n < 0:
        raise ValueError("varint must be non-negative")
    if n < 1 << 6:
        return bytes([n])
    if n < 1 << 14:
        return (n | 0x4000).to_bytes(2, "big")
    if n < 1 << 30:
        return (n | 0x8000_0000).to_bytes(4, "big")
    raise ValueError(f"length {n} exceeds the 2^30 limit of RFC 9420 §2.1.2")


class Writer:
    """Appends TLS-encoded values to a growing buffer."""

    __slots__ = ("buf",)

    def __init__(self) -> None:
        self.buf = bytearray()

    def raw(self, data: bytes) -> Self:
        self.buf += data
        return self

    def uint8(self, v: int) -> Self:
        self.buf += struct.pack(">B", v)
        return self

    def uint16(self, v: int) -> Self:
        self.buf += struct.pack(">H", v)
        return self

    def uint32(self, v: int) -> Self:
        self.buf += struct.pack(">I", v)
        return self

    def uint64(self, v: int) -> Self:
        self.buf += struct.pack(">Q", v)
        return self

    def varint(self, v: int) -> Self:
        self.buf += encode_varint(v)
        return self

    def opaque(self, data: bytes) -> Self:
        """``opaque data<V>``: varint length then the bytes."""
        self.buf += encode_varint(len(data))
        self.buf += data
        return self

    def vector(self, items: Iterable[T], enc: Callable[[Writer, T], Any]) -> Self:
        """``T items<V>``: the encoded items prefixed with their total byte length."""
        inner = Writer()
        for item in items:
            enc(inner, item)
        return self.opaque(bytes(inner.buf))

    def structs(self, items: Iterable[Struct]) -> Self:
        return self.vector(items, lambda w, s: s.encode(w))

    def optional(self, value: T | None, enc: Callable[[Writer, T], Any]) -> Self:
        """``optional<T>``: a presence octet then, if present, the value."""
        if value is None:
            self.buf.append(0)
        else:
            self.buf.append(1)
            enc(self, value)
        return self

    def boolean(self, v: bool) -> Self:
        self.buf.append(1 if v else 0)
        return self

    def getvalue(self) -> bytes:
        return bytes(self.buf)


class Reader:
    """Consumes TLS-encoded values from a buffer, raising DecodeError on any malformation."""

    __slots__ = ("data", "end", "pos")

    def __init__(self, data: bytes | memoryview, pos: int = 0, end: int | None = None) -> None:
        self.data = memoryview(data) if not isinstance(data, memoryview) else data
        self.pos = pos
        self.end = len(data) if end is None else end

    def remaining(self) -> int:
        return self.end - self.pos

    def raw(self, n: int) -> bytes:
        if n < 0 or self.pos + n > self.end:
            raise DecodeError(f"short input: need {n} bytes, have {self.end - self.pos}")
        out = bytes(self.data[self.pos : self.pos + n])
        self.pos += n
        return out

    def _int(self, n: int) -> int:
        return int.from_bytes(self.raw(n), "big")

    def uint8(self) -> int:
        pos = self.pos
        if pos >= self.end:
            raise DecodeError(f"short input: need 1 bytes, have {self.end - pos}")
        self.pos = pos + 1
        return self.data[pos]

    def uint16(self) -> int:
        return self._int(2)

    def uint32(self) -> int:
        return self._int(4)

    def uint64(self) -> int:
        return self._int(8)

    def varint(self) -> int:
        pos = self.pos
        if pos >= self.end:
            raise DecodeError("short input: missing varint")
        first = self.data[pos]
        if first < 0x40:  # the 1-byte form: most lengths (hot path of every decode)
            self.pos = pos + 1
            return first
        prefix = first >> 6
        if prefix == 3:
            raise DecodeError("invalid varint: 8-byte form is not allowed (RFC 9420 §2.1.2)")
        size = 1 << prefix
        raw = self.raw(size)
        value = int.from_bytes(raw, "big") & ((1 << (8 * size - 2)) - 1)
        if size > 1 and value < (1 << (8 * (size // 2) - 2)):
            raise DecodeError("invalid varint: not minimally encoded (RFC 9420 §2.1.2)")
        return value

    def opaque(self) -> bytes:
        n = self.varint()
        pos = self.pos
        end = pos + n
        if end > self.end:
            raise DecodeError(f"short input: need {n} bytes, have {self.end - pos}")
        self.pos = end
        return bytes(self.data[pos:end])

    def sub(self) -> Reader:
        """A reader over the next varint-prefixed vector body; this reader skips past it."""
        n = self.varint()
        if self.pos + n > self.end:
            raise DecodeError(f"vector length {n} exceeds the remaining {self.end - self.pos} bytes")
        r = Reader(self.data, self.pos, self.pos + n)
        self.pos += n
        return r

    def vector(self, dec: Callable[[Reader], T]) -> list[T]:
        r = self.sub()
        out: list[T] = []
        while r.remaining() > 0:
            out.append(dec(r))
        return out

    def structs(self, cls: type[S]) -> list[S]:
        return self.vector(cls.decode)

    def optional(self, dec: Callable[[Reader], T]) -> T | None:
        flag = self.uint8()
        if flag == 0:
            return None
        if flag != 1:
            raise DecodeError(f"invalid optional presence octet {flag}")
        return dec(self)

    def boolean(self) -> bool:
        v = self.uint8()
        if v > 1:
            raise DecodeError(f"invalid boolean {v}")
        return v == 1

    def done(self) -> None:
        if self.pos != self.end:
            raise DecodeError(f"{self.end - self.pos} trailing bytes")


S = TypeVar("S", bound="Struct")


class Struct:
    """Mixin for wire structs: subclasses implement ``encode`` and ``decode``."""

    __slots__ = ()
    #: name used in error messages
    wire_name: ClassVar[str] = ""

    def encode(self, w: Writer) -> None:  # pragma: no cover - abstract
        """Append this struct's TLS presentation-language encoding (RFC 9420 §2.1) to ``w``."""
        raise NotImplementedError

    @classmethod
    def decode(cls, r: Reader) -> Self:  # pragma: no cover - abstract
        """Read one struct from ``r`` (RFC 9420 §2.1); :class:`~mls_pq.errors.DecodeError` if malformed."""
        raise NotImplementedError

    def to_bytes(self) -> bytes:
        """The encoding of this struct alone (:meth:`encode` into a fresh writer)."""
        w = Writer()
        self.encode(w)
        return w.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """Decode exactly one value; trailing bytes are an error."""
        r = Reader(data)
        try:
            v = cls.decode(r)
        except (IndexError, ValueError, struct.error) as e:  # defensive: never leak raw errors
            raise DecodeError(f"malformed {cls.wire_name or cls.__name__}: {e}") from None
        r.done()
        return v


class CachedStruct(Struct):
    """A Struct whose immutable encoding is computed once, by the subclass's ``encoded``
    (a ``cached_property``): for structs that are hashed and re-encoded often (tree nodes,
    KeyPackages, signed messages)."""

    __slots__ = ()

    @property
    def encoded(self) -> bytes:  # pragma: no cover - overridden
        raise NotImplementedError

    def encode(self, w: Writer) -> None:
        w.raw(self.encoded)

    def to_bytes(self) -> bytes:
        return self.encoded


def encode_opaque(data: bytes) -> bytes:
    return encode_varint(len(data)) + data


def decode_exact(data: bytes, dec: Callable[[Reader], T]) -> T:
    r = Reader(data)
    v = dec(r)
    r.done()
    return v


def write_opaque_list(w: Writer, items: Sequence[bytes]) -> None:
    w.vector(items, lambda ww, b: ww.opaque(b))
