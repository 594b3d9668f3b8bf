"""Pre-shared keys (RFC 9420 §8.4): PreSharedKeyID, PSKLabel and the psk_secret chain."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Self

from .codec import Reader, Struct, Writer
from .errors import DecodeError
from .suites import CipherSuite

PSK_EXTERNAL = 1
PSK_RESUMPTION = 2

# ResumptionPSKUsage
USAGE_APPLICATION = 1
USAGE_REINIT = 2
USAGE_BRANCH = 3


@dataclass(frozen=True)
class PreSharedKeyID(Struct):
    """``PreSharedKeyID`` (RFC 9420 §8.4). External PSKs carry ``psk_id``; resumption PSKs
    carry ``usage``, ``psk_group_id`` and ``psk_epoch``."""

    psktype: int
    psk_nonce: bytes
    psk_id: bytes = b""
    usage: int = 0
    psk_group_id: bytes = b""
    psk_epoch: int = 0

    @classmethod
    def external(cls, psk_id: bytes, psk_nonce: bytes) -> PreSharedKeyID:
        return cls(PSK_EXTERNAL, psk_nonce, psk_id=psk_id)

    @classmethod
    def resumption(cls, usage: int, group_id: bytes, epoch: int, psk_nonce: bytes) -> PreSharedKeyID:
        return cls(PSK_RESUMPTION, psk_nonce, usage=usage, psk_group_id=group_id, psk_epoch=epoch)

    def encode(self, w: Writer) -> None:
        w.uint8(self.psktype)
        if self.psktype == PSK_EXTERNAL:
            w.opaque(self.psk_id)
        else:
            w.uint8(self.usage).opaque(self.psk_group_id).uint64(self.psk_epoch)
        w.opaque(self.psk_nonce)

    @classmethod
    def decode(cls, r: Reader) -> Self:
        t = r.uint8()
        if t == PSK_EXTERNAL:
            psk_id = r.opaque()
            return cls(t, r.opaque(), psk_id=psk_id)
        if t == PSK_RESUMPTION:
            usage = r.uint8()
            if usage not in (USAGE_APPLICATION, USAGE_REINIT, USAGE_BRANCH):
                raise DecodeError(f"unknown ResumptionPSKUsage {usage}")
            gid = r.opaque()
            epoch = r.uint64()
            return cls(t, r.opaque(), usage=usage, psk_group_id=gid, psk_epoch=epoch)
        raise DecodeError(f"unknown PSKType {t}")


def psk_secret(suite: CipherSuite, psks: Sequence[tuple[PreSharedKeyID, bytes]]) -> bytes:
    """Chain the PSKs into ``psk_secret`` (RFC 9420 §8.4); all-zero when there are none."""
    zero = bytes(suite.n_h)
    secret = zero
    count = len(psks)
    for index, (pid, psk) in enumerate(psks):
        extracted = suite.extract(zero, psk)
        label = Writer()
        pid.encode(label)
        label.uint16(index).uint16(count)
        psk_input = suite.expand_with_label(extracted, "derived psk", label.getvalue(), suite.n_h)
        secret = suite.extract(psk_input, secret)
    return secret
