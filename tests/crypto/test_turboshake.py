"""TurboSHAKE128/256 (hand-written, mls_pq.crypto.turboshake) against RFC 9861 §5 test vectors,
and the underlying Keccak-p[1600] permutation cross-checked against hashlib's SHAKE at 24 rounds."""

from __future__ import annotations

import hashlib

import pytest

from mls_pq.crypto import get_kdf
from mls_pq.crypto.turboshake import (
    keccak_p1600,
    turboshake,
    turboshake128,
    turboshake256,
)
from mls_pq.errors import CryptoError


def ptn(n: int) -> bytes:
    """RFC 9861 §5: the repeating pattern 00 01 02 .. F9 FA truncated to n bytes."""
    pattern = bytes(range(0xFB))
    return (pattern * (n // 0xFB + 1))[:n]


def h(s: str) -> bytes:
    return bytes.fromhex("".join(s.split()))


# (function, message, domain, output length, expected tail) — RFC 9861 §5.
# For the 10032-byte outputs only the last 32 bytes are listed in the RFC.
RFC9861 = [
    ("128", b"", 0x1F, 32, "1E415F1C5983AFF2169217277D17BB538CD945A397DDEC541F1CE41AF2C1B74C"),
    ("128", b"", 0x1F, 64, ("1E415F1C5983AFF2169217277D17BB538CD945A397DDEC541F1CE41AF2C1B74C"
                           "3E8CCAE2A4DAE56C84A04C2385C03C15E8193BDF58737363321691C05462C8DF")),
    ("128", b"", 0x1F, 10032, "A3B9B0385900CE761F22AED548E754DA10A5242D62E8C658E3F3A923A7555607"),
    ("128", ptn(1), 0x1F, 32, "55CEDD6F60AF7BB29A4042AE832EF3F58DB7299F893EBB9247247D856958DAA9"),
    ("128", ptn(17), 0x1F, 32, "9C97D036A3BAC819DB70EDE0CA554EC6E4C2A1A4FFBFD9EC269CA6A111161233"),
    ("128", ptn(17**2), 0x1F, 32, "96C77C279E0126F7FC07C9B07F5CDAE1E0BE60BDBE10620040E75D7223A624D2"),
    ("128", ptn(17**3), 0x1F, 32, "D4976EB56BCF118520582B709F73E1D6853E001FDAF80E1B13E0D0599D5FB372"),
    ("128", ptn(17**4), 0x1F, 32, "DA67C7039E98BF530CF7A37830C6664E14CBAB7F540F58403B1B82951318EE5C"),
    ("128", b"\xff\xff\xff", 0x01, 32, "BF323F940494E88EE1C540FE660BE8A0C93F43D15EC006998462FA994EED5DAB"),
    ("128", b"\xff", 0x06, 32, "8EC9C66465ED0D4A6C35D13506718D687A25CB05C74CCA1E42501ABD83874A67"),
    ("128", b"\xff" * 3, 0x07, 32, "B658576001CAD9B1E5F399A9F77723BBA05458042D68206F7252682DBA3663ED"),
    ("128", b"\xff" * 7, 0x0B, 32, "8DEEAA1AEC47CCEE569F659C21DFA8E112DB3CEE37B18178B2ACD805B799CC37"),
    ("128", b"\xff", 0x30, 32, "553122E2135E363C3292BED2C6421FA232BAB03DAA07C7D6636603286506325B"),
    ("128", b"\xff" * 3, 0x7F, 32, "16274CC656D44CEFD422395D0F9053BDA6D28E122ABA15C765E5AD0E6EAF26F9"),
    ("256", b"", 0x1F, 64, ("367A329DAFEA871C7802EC67F905AE13C57695DC2C6663C61035F59A18F8E7DB"
                           "11EDC0E12E91EA60EB6B32DF06DD7F002FBAFABB6E13EC1CC20D995547600DB0")),
    ("256", b"", 0x1F, 10032, "ABEFA11630C661269249742685EC082F207265DCCF2F43534E9C61BA0C9D1D75"),
    ("256", ptn(1), 0x1F, 64, ("3E1712F928F8EAF1054632B2AA0A246ED8B0C378728F60BC970410155C28820E"
                              "90CC90D8A3006AA2372C5C5EA176B0682BF22BAE7467AC94F74D43D39B0482E2")),
    ("256", ptn(17), 0x1F, 64, ("B3BAB0300E6A191FBE6137939835923578794EA54843F5011090FA2F3780A9E5"
                               "CB22C59D78B40A0FBFF9E672C0FBE0970BD2C845091C6044D687054DA5D8E9C7")),
    ("256", ptn(17**2), 0x1F, 64, ("66B810DB8E90780424C0847372FDC95710882FDE31C6DF75BEB9D4CD9305CFCA"
                                  "E35E7B83E8B7E6EB4B78605880116316FE2C078A09B94AD7B8213C0A738B65C0")),
    ("256", ptn(17**3), 0x1F, 64, ("C74EBC919A5B3B0DD1228185BA02D29EF442D69D3D4276A93EFE0BF9A16A7DC0"
                                  "CD4EABADAB8CD7A5EDD96695F5D360ABE09E2C6511A3EC397DA3B76B9E1674FB")),
    ("256", ptn(17**4), 0x1F, 64, ("02CC3A8897E6F4F6CCB6FD46631B1F5207B66C6DE9C7B55B2D1A23134A170AFD"
                                  "AC234EABA9A77CFF88C1F020B73724618C5687B362C430B248CD38647F848A1D")),
    ("256", b"\xff\xff\xff", 0x01, 64, ("D21C6FBBF587FA2282F29AEA620175FB0257413AF78A0B1B2A87419CE031D933"
                                       "AE7A4D383327A8A17641A34F8A1D1003AD7DA6B72DBA84BB62FEF28F62F12424")),
    ("256", b"\xff", 0x06, 64, ("738D7B4E37D18B7F22AD1B5313E357E3DD7D07056A26A303C433FA3533455280"
                               "F4F5A7D4F700EFB437FE6D281405E07BE32A0A972E22E63ADC1B090DAEFE004B")),
    ("256", b"\xff" * 3, 0x07, 64, ("18B3B5B7061C2E67C1753A00E6AD7ED7BA1C906CF93EFB7092EAF27FBEEBB755"
                                   "AE6E292493C110E48D260028492B8E09B5500612B8F2578985DED5357D00EC67")),
    ("256", b"\xff" * 7, 0x0B, 64, ("BB36764951EC97E9D85F7EE9A67A7718FC005CF42556BE79CE12C0BDE50E5736"
                                   "D6632B0D0DFB202D1BBB8FFE3DD74CB00834FA756CB03471BAB13A1E2C16B3C0")),
    ("256", b"\xff", 0x30, 64, ("F3FE12873D34BCBB2E608779D6B70E7F86BEC7E90BF113CBD4FDD0C4E2F4625E"
                               "148DD7EE1A52776CF77F240514D9CCFC3B5DDAB8EE255E39EE389072962C111A")),
    ("256", b"\xff" * 3, 0x7F, 64, ("ABE569C1F77EC340F02705E7D37C9AB7E155516E4A6A150021D70B6FAC0BB40C"
                                   "069F9A9828A0D575CD99F9BAE435AB1ACF7ED9110BA97CE0388D074BAC768776")),
]


@pytest.mark.parametrize(
    "which,msg,domain,length,expected", RFC9861,
    ids=[f"TurboSHAKE{w}-len{len(m)}-D{d:02x}-L{n}" for w, m, d, n, _ in RFC9861],
)
def test_rfc9861_vectors(which: str, msg: bytes, domain: int, length: int, expected: str) -> None:
    fn = turboshake128 if which == "128" else turboshake256
    want = h(expected)
    out = fn(msg, length, domain)
    assert len(out) == length
    assert out[-len(want):] == want


@pytest.mark.parametrize("n", [0, 1, 7, 8, 135, 136, 137, 167, 168, 169, 300, 336, 500])
def test_sponge_with_24_rounds_is_shake(n: int) -> None:
    """Keccak-p[1600, 24] = Keccak-f[1600]; with D=0x1F the same sponge is SHAKE (FIPS 202)."""
    msg = bytes((7 * i + 3) & 0xFF for i in range(n))
    assert turboshake(168, msg, 400, 0x1F, rounds=24) == hashlib.shake_128(msg).digest(400)
    assert turboshake(136, msg, 400, 0x1F, rounds=24) == hashlib.shake_256(msg).digest(400)


def test_prefix_property_and_12_rounds_differ_from_shake() -> None:
    long = turboshake128(b"abc", 500)
    assert turboshake128(b"abc", 100) == long[:100]
    assert long[:32] != hashlib.shake_128(b"abc").digest(32)


def test_permutation_rejects_bad_round_count() -> None:
    with pytest.raises(CryptoError):
        keccak_p1600([0] * 25, 25)


@pytest.mark.parametrize("domain", [0x00, 0x80, 0xFF])
def test_domain_byte_range(domain: int) -> None:
    with pytest.raises(CryptoError):
        turboshake128(b"", 32, domain)


def test_negative_length() -> None:
    with pytest.raises(CryptoError):
        turboshake256(b"", -1)


def test_kdf_adapters_use_turboshake_with_domain_1f() -> None:
    """draft-ietf-hpke-pq §5: TurboSHAKE<SIZE>.Derive(ikm, L) = TurboSHAKE<SIZE>(M=ikm, D=0x1F, L)."""
    assert get_kdf(0x0012).derive(b"", 64) == h(RFC9861[1][4])
    assert get_kdf(0x0013).derive(b"", 64) == h(RFC9861[14][4])
