"""Safe HPKE and signature operations for application components (draft-ietf-mls-extensions
§4.2, §4.3): the RFC 9420 ``EncryptWithLabel`` / ``SignWithLabel`` family with the encoded
:class:`~mls_pq.messages.app_data.ComponentOperationLabel` ("MLS Component", component id,
label) as their ``Label``, so that a component's ciphertexts and signatures are valid only in
that component's context. A thin layer over :class:`~mls_pq.suites.CipherSuite`; written by hand.

§4.2/§4.3: for operations with the *secret* key (decrypting, signing) the component id MUST be
the caller's own — the library cannot know who calls, so the application passes its own id.
"""

from __future__ import annotations

from .messages.app_data import ComponentOperationLabel
from .suites import CipherSuite


def component_label(component_id: int, label: str | bytes) -> bytes:
    """The encoded ComponentOperationLabel used as ``Label`` (§4.1)."""
    return ComponentOperationLabel(component_id, label.encode() if isinstance(label, str) else label).to_bytes()


def safe_encrypt_with_label(
    suite: CipherSuite, public_key: bytes, component_id: int, label: str | bytes, context: bytes, plaintext: bytes
) -> tuple[bytes, bytes]:
    """SafeEncryptWithLabel -> (kem_output, ciphertext) (§4.2)."""
    return suite.encrypt_with_label(public_key, component_label(component_id, label), context, plaintext)


def safe_decrypt_with_label(
    suite: CipherSuite,
    private_key: bytes,
    component_id: int,
    label: str | bytes,
    context: bytes,
    kem_output: bytes,
    ciphertext: bytes,
) -> bytes:
    """SafeDecryptWithLabel (§4.2); :class:`~mls_pq.errors.DecryptError` on failure."""
    return suite.decrypt_with_label(private_key, component_label(component_id, label), context, kem_output, ciphertext)


def safe_sign_with_label(suite: CipherSuite, signature_key: bytes, component_id: int, label: str | bytes, content: bytes) -> bytes:
    """SafeSignWithLabel (§4.3)."""
    return suite.sign_with_label(signature_key, component_label(component_id, label), content)


def safe_verify_with_label(
    suite: CipherSuite, verification_key: bytes, component_id: int, label: str | bytes, content: bytes, signature: bytes
) -> bool:
    """SafeVerifyWithLabel (§4.3)."""
    return suite.verify_with_label(verification_key, component_label(component_id, label), content, signature)
