"""TurboSHAKE128 and TurboSHAKE256 (RFC 9861 §2) in pure Python.

Written by hand because neither ``hashlib`` nor pyca/cryptography provides TurboSHAKE
(they only ship the 24-round Keccak-f[1600] behind SHA-3/SHAKE). TurboSHAKE is a sponge
over Keccak-p[1600, n_r = 12] (the last 12 rounds of Keccak-f, FIPS 202 §3.3) with rate
168 bytes (TurboSHAKE128) or 136 bytes (TurboSHAKE256) and a caller-chosen domain
separation byte ``D`` in 0x01..0x7F, padded as ``M || D || 0x00* `` with 0x80 xored into
the last byte of the block (RFC 9861 §2.2).

Used by the one-stage HPKE KDFs TurboSHAKE128 (0x0012) and TurboSHAKE256 (0x0013) with
``D = 0x1F`` (draft-ietf-hpke-pq §5). Inputs there are a few hundred bytes, so a plain
lane-oriented implementation (a few hundred microseconds per permutation) is enough.
"""

from __future__ import annotations

from ..errors import CryptoError

__all__ = ["keccak_p1600", "keccak_p1600_12", "turboshake", "turboshake128", "turboshake256"]

_MASK = (1 << 64) - 1

# Round constants of Keccak-f[1600] (FIPS 202 §3.2.5). Keccak-p[1600, n_r] uses the last
# n_r of them (FIPS 202 §3.3); TurboSHAKE uses n_r = 12 (RFC 9861 §2.1).
_RC_ALL = (
    0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
    0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
    0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
    0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
    0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
    0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
)

# rho offsets r[x][y] flattened to lane index x + 5*y (FIPS 202 §3.2.2, Table 2)
_ROT = (
    0, 1, 62, 28, 27,
    36, 44, 6, 55, 20,
    3, 10, 43, 25, 39,
    41, 45, 15, 21, 8,
    18, 2, 61, 56, 14,
)

# pi: B[y, 2x+3y] = rot(A[x, y]) -> for each source lane i = x+5y, destination index
_PI = tuple(((y) + 5 * ((2 * x + 3 * y) % 5)) for y in range(5) for x in range(5))
# The list above is ordered by (y, x); reorder to be indexed by source lane x + 5*y.
_PI_DEST = [0] * 25
for _y in range(5):
    for _x in range(5):
        _PI_DEST[_x + 5 * _y] = _y + 5 * ((2 * _x + 3 * _y) % 5)
_PI_DEST_T = tuple(_PI_DEST)
del _PI, _PI_DEST


def keccak_p1600(lanes: list[int], rounds: int = 12) -> None:
    """Apply Keccak-p[1600, rounds] in place to 25 little-endian 64-bit lanes (index x + 5*y).

    ``rounds=24`` is Keccak-f[1600] (the SHA-3 permutation), which lets tests cross-check
    this code against ``hashlib.shake_128``.
    """
    if not 1 <= rounds <= 24:
        raise CryptoError("Keccak-p[1600] takes 1..24 rounds")
    a = lanes
    rot = _ROT
    dest = _PI_DEST_T
    mask = _MASK
    b = [0] * 25
    for rc in _RC_ALL[24 - rounds:]:
        # theta
        c0 = a[0] ^ a[5] ^ a[10] ^ a[15] ^ a[20]
        c1 = a[1] ^ a[6] ^ a[11] ^ a[16] ^ a[21]
        c2 = a[2] ^ a[7] ^ a[12] ^ a[17] ^ a[22]
        c3 = a[3] ^ a[8] ^ a[13] ^ a[18] ^ a[23]
        c4 = a[4] ^ a[9] ^ a[14] ^ a[19] ^ a[24]
        d = (
            c4 ^ (((c1 << 1) | (c1 >> 63)) & mask),
            c0 ^ (((c2 << 1) | (c2 >> 63)) & mask),
            c1 ^ (((c3 << 1) | (c3 >> 63)) & mask),
            c2 ^ (((c4 << 1) | (c4 >> 63)) & mask),
            c3 ^ (((c0 << 1) | (c0 >> 63)) & mask),
        )
        # rho + pi
        for i in range(25):
            v = a[i] ^ d[i % 5]
            r = rot[i]
            b[dest[i]] = ((v << r) | (v >> (64 - r))) & mask if r else v
        # chi
        for y in range(0, 25, 5):
            b0, b1, b2, b3, b4 = b[y], b[y + 1], b[y + 2], b[y + 3], b[y + 4]
            a[y] = b0 ^ (~b1 & b2)
            a[y + 1] = b1 ^ (~b2 & b3)
            a[y + 2] = b2 ^ (~b3 & b4)
            a[y + 3] = b3 ^ (~b4 & b0)
            a[y + 4] = b4 ^ (~b0 & b1)
        # iota
        a[0] ^= rc


def keccak_p1600_12(lanes: list[int]) -> None:
    """Keccak-p[1600, 12], the TurboSHAKE permutation (RFC 9861 §2.1)."""
    keccak_p1600(lanes, 12)


def _absorb_block(lanes: list[int], block: bytes, rounds: int) -> None:
    for i in range(len(block) // 8):
        lanes[i] ^= int.from_bytes(block[8 * i: 8 * i + 8], "little")
    keccak_p1600(lanes, rounds)


def turboshake(rate: int, message: bytes, length: int, domain: int = 0x1F, rounds: int = 12) -> bytes:
    """Sponge over Keccak-p[1600, rounds] with ``rate`` bytes, domain byte ``domain`` and
    ``length`` output bytes. With the default 12 rounds and rate 168/136 this is
    TurboSHAKE128/256 (RFC 9861 §2.2); with 24 rounds and D = 0x1F it is SHAKE128/256."""
    if not 0x01 <= domain <= 0x7F:
        raise CryptoError("TurboSHAKE domain separation byte must be in 0x01..0x7F")
    if length < 0:
        raise CryptoError("TurboSHAKE output length must be non-negative")
    lanes = [0] * 25
    msg = bytes(message)
    full = len(msg) - len(msg) % rate
    for off in range(0, full, rate):
        _absorb_block(lanes, msg[off: off + rate], rounds)
    last = bytearray(msg[full:])
    last.append(domain)
    last.extend(bytes(rate - len(last)))
    last[-1] ^= 0x80
    _absorb_block(lanes, bytes(last), rounds)
    out = bytearray()
    n_lanes = rate // 8
    while True:
        out += b"".join(lanes[i].to_bytes(8, "little") for i in range(n_lanes))
        if len(out) >= length:
            return bytes(out[:length])
        keccak_p1600(lanes, rounds)


def turboshake128(message: bytes, length: int, domain: int = 0x1F) -> bytes:
    """TurboSHAKE128(M, D, L) (RFC 9861 §2.2), rate 168 bytes."""
    return turboshake(168, message, length, domain)


def turboshake256(message: bytes, length: int, domain: int = 0x1F) -> bytes:
    """TurboSHAKE256(M, D, L) (RFC 9861 §2.2), rate 136 bytes."""
    return turboshake(136, message, length, domain)
