"""Transcript hashes and the confirmation tag (RFC 9420 §8.2, §6.1).

    confirmed_transcript_hash = Hash(interim_transcript_hash_before || ConfirmedTranscriptHashInput)
    interim_transcript_hash   = Hash(confirmed_transcript_hash || InterimTranscriptHashInput)
    confirmation_tag          = MAC(confirmation_key, confirmed_transcript_hash)

Both hashes start as the empty string in epoch 0.
"""

from __future__ import annotations

import hmac

from .codec import Writer, encode_opaque
from .errors import ValidationError
from .messages.framing_structs import AuthenticatedContent, ContentType, FramedContent
from .suites import CipherSuite


def confirmed_transcript_hash_input(wire_format: int, content: FramedContent, signature: bytes) -> bytes:
    """``ConfirmedTranscriptHashInput``: wire_format, content (a commit), signature."""
    if content.content_type != ContentType.COMMIT:
        raise ValidationError("only commits enter the transcript hash", "8.2")
    w = Writer().uint16(wire_format)
    content.encode(w)
    return w.opaque(signature).getvalue()


def confirmed_transcript_hash(
    suite: CipherSuite, interim_before: bytes, wire_format: int, content: FramedContent, signature: bytes
) -> bytes:
    """The new confirmed transcript hash from the previous interim one and a signed commit."""
    return suite.digest(interim_before + confirmed_transcript_hash_input(wire_format, content, signature))


def interim_transcript_hash(suite: CipherSuite, confirmed: bytes, confirmation_tag: bytes) -> bytes:
    """Hash(confirmed || InterimTranscriptHashInput), the input being ``MAC confirmation_tag``."""
    return suite.digest(confirmed + encode_opaque(confirmation_tag))


def confirmation_tag(suite: CipherSuite, confirmation_key: bytes, confirmed: bytes) -> bytes:
    return suite.mac(confirmation_key, confirmed)


def verify_confirmation_tag(suite: CipherSuite, confirmation_key: bytes, confirmed: bytes, tag: bytes) -> None:
    """Raise ValidationError unless ``tag`` = MAC(confirmation_key, confirmed) (§6.1, §12.4.2)."""
    if not hmac.compare_digest(confirmation_tag(suite, confirmation_key, confirmed), tag):
        raise ValidationError("confirmation_tag does not match", "6.1")


def update_transcript(suite: CipherSuite, interim_before: bytes, ac: AuthenticatedContent) -> tuple[bytes, bytes]:
    """(confirmed, interim) after the commit in ``ac`` (its auth must carry the confirmation tag)."""
    if ac.auth.confirmation_tag is None:
        raise ValidationError("a commit carries a confirmation_tag", "6.1")
    confirmed = confirmed_transcript_hash(suite, interim_before, ac.wire_format, ac.content, ac.auth.signature)
    return confirmed, interim_transcript_hash(suite, confirmed, ac.auth.confirmation_tag)
