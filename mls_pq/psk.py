"""Pre-shared keys (RFC 9420 §8.4): PreSharedKeyID, PSKLabel and the psk_secret chain.

Besides RFC 9420's external(1) and resumption(2) PSKs, ``PreSharedKeyID`` carries the
application(3) PSKs of draft-ietf-mls-extensions §4.5 (``component_id`` then ``psk_id``); the
PSKLabel of §8.4 embeds the whole PreSharedKeyID encoding, so the component id separates the
PSKs of different components in ``psk_secret``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Self

from .codec import Reader, Struct, Writer
from .errors import DecodeError, DraftValidationError
from .ext_codepoints import PSK_APPLICATION as PSK_APPLICATION  # application(3), draft-ietf-mls-extensions §4.5
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
    carry ``usage``, ``psk_group_id`` and ``psk_epoch``; application PSKs
    (draft-ietf-mls-extensions §4.5) carry ``component_id`` and ``psk_id``."""

    psktype: int
    psk_nonce: bytes
    psk_id: bytes = b""
    usage: int = 0
    psk_group_id: bytes = b""
    psk_epoch: int = 0
    component_id: int = 0

    def __post_init__(self) -> None:
        if self.psktype == PSK_APPLICATION and not 0 <= self.component_id <= 0xFFFF:
            raise DraftValidationError(f"component id {self.component_id!r} is not a uint16", "4.5")

    @classmethod
    def external(cls, psk_id: bytes, psk_nonce: bytes) -> PreSharedKeyID:
        """An external PSK's id (RFC 9420 §8.4, psktype external) with a fresh ``psk_nonce``."""
        return cls(PSK_EXTERNAL, psk_nonce, psk_id=psk_id)

    @classmethod
    def resumption(cls, usage: int, group_id: bytes, epoch: int, psk_nonce: bytes) -> PreSharedKeyID:
        """A resumption PSK's id (RFC 9420 §8.6): ``usage`` (application, reinit, branch) of
        ``group_id``'s ``epoch``."""
        return cls(PSK_RESUMPTION, psk_nonce, usage=usage, psk_group_id=group_id, psk_epoch=epoch)

    @classmethod
    def application(cls, component_id: int, psk_id: bytes, psk_nonce: bytes) -> PreSharedKeyID:
        """``psktype = application`` (draft-ietf-mls-extensions §4.5)."""
        return cls(PSK_APPLICATION, psk_nonce, psk_id=psk_id, component_id=component_id)

    def encode(self, w: Writer) -> None:
        w.uint8(self.psktype)
        if self.psktype == PSK_EXTERNAL:
            w.opaque(self.psk_id)
        elif self.psktype == PSK_APPLICATION:
            w.uint16(self.component_id).opaque(self.psk_id)
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
        if t == PSK_APPLICATION:
            cid = r.uint16()
            psk_id = r.opaque()
            return cls(t, r.opaque(), psk_id=psk_id, component_id=cid)
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
