"""Safe HPKE and signature operations (draft-ietf-mls-extensions §4.2, §4.3)."""

from __future__ import annotations

import pytest

from mls_pq.client import Client
from mls_pq.errors import DecryptError
from mls_pq.safe_api import (
    component_label,
    safe_decrypt_with_label,
    safe_encrypt_with_label,
    safe_sign_with_label,
    safe_verify_with_label,
)
from mls_pq.suites import get_suite

S = get_suite(0x0001)


def test_label_is_component_operation_label_section_4_1() -> None:
    assert component_label(6, "x") == b"\x0dMLS Component\x00\x06\x01x"


def test_safe_hpke_domain_separated_section_4_2() -> None:
    sk, pk = S.generate_key_pair()
    kem, ct = safe_encrypt_with_label(S, pk, 0x8001, "msg", b"ctx", b"hello")
    assert safe_decrypt_with_label(S, sk, 0x8001, "msg", b"ctx", kem, ct) == b"hello"
    for cid, label in ((0x8002, "msg"), (0x8001, "other")):
        with pytest.raises(DecryptError):
            safe_decrypt_with_label(S, sk, cid, label, b"ctx", kem, ct)
    # the same plaintext through plain EncryptWithLabel with the label alone does not open
    kem2, ct2 = S.encrypt_with_label(pk, "msg", b"ctx", b"hello")
    with pytest.raises(DecryptError):
        safe_decrypt_with_label(S, sk, 0x8001, "msg", b"ctx", kem2, ct2)


def test_safe_signatures_domain_separated_section_4_3() -> None:
    sk = Client.generate(S, b"a").signature_priv
    vk = S.signature.public_key(sk)
    sig = safe_sign_with_label(S, sk, 0x8001, "tbs", b"content")
    assert safe_verify_with_label(S, vk, 0x8001, "tbs", b"content", sig)
    assert not safe_verify_with_label(S, vk, 0x8002, "tbs", b"content", sig)
    assert not safe_verify_with_label(S, vk, 0x8001, "tbs2", b"content", sig)
    assert not S.verify_with_label(vk, "tbs", b"content", sig)
