"""HPKE (RFC 9180 §5–6) generalised to one-stage KDFs (draft-ietf-hpke-hpke §5, draft-ietf-hpke-pq).

:class:`Hpke` combines any :class:`~mls_pq.crypto.base.Kem`, :class:`~mls_pq.crypto.base.Kdf`
and :class:`~mls_pq.crypto.base.Aead`:

* key schedule — ``CombineSecrets_TwoStage`` (RFC 9180 §5.1) for HKDF and
  ``CombineSecrets_OneStage`` (draft-ietf-hpke-hpke §5.1) for SHAKE/TurboSHAKE;
* modes base (0x00), psk (0x01) and — when ``kem.supports_auth`` (DHKEM) — the RFC 9180
  auth (0x02) and auth_psk (0x03) modes, which draft-ietf-hpke-hpke no longer defines;
* ``setup_<mode>_s`` / ``setup_<mode>_r`` returning :class:`ContextS` / :class:`ContextR`
  (sequence-numbered Seal/Open, Export; §5.2–5.3);
* single-shot :meth:`Hpke.seal` / :meth:`Hpke.open` (mode chosen by the optional ``psk``,
  ``psk_id``, ``sk_s``/``pk_s`` arguments), :meth:`Hpke.send_export` / :meth:`Hpke.receive_export`
  (§6);
* deterministic sender setup for test vectors: ``ikm_e=`` on :meth:`Hpke.setup_s` uses
  ``kem.encap_derand`` (or ``auth_encap_derand``).

With the export-only AEAD (0xFFFF) only ``export`` is available on a context.
"""

from __future__ import annotations

import functools
from enum import IntEnum

from ..errors import CryptoError, MessageLimitError, UnsupportedAlgorithm
from .base import Aead, Kdf, Kem
from .kdf import labeled_derive, labeled_expand, labeled_extract

__all__ = ["Context", "ContextR", "ContextS", "Hpke", "Mode", "PreparedInfo", "hpke"]


class Mode(IntEnum):
    """HPKE modes (RFC 9180 §5, Table 1)."""

    BASE = 0x00
    PSK = 0x01
    AUTH = 0x02
    AUTH_PSK = 0x03


def _lp(data: bytes) -> bytes:
    """``lengthPrefixed(x)``: two-byte length then x (draft-ietf-hpke-hpke §3)."""
    if len(data) > 0xFFFF:
        raise CryptoError("input longer than 65535 bytes cannot be length-prefixed")
    return len(data).to_bytes(2, "big") + data


class PreparedInfo:
    """An HPKE ``info`` whose key-schedule digest is computed once, for sealing to many
    recipients with the same ``info`` (an MLS Welcome: ``info`` holds the whole
    encrypted GroupInfo, RFC 9420 §12.4.3.1). With a two-stage KDF it carries
    ``info_hash = LabeledExtract("", "info_hash", info)`` (RFC 9180 §5.1), so each
    recipient costs O(1) instead of O(len(info)); a one-stage KDF absorbs ``info`` after
    the per-recipient secrets, so there it is used as is. Build with
    :meth:`Hpke.prepare_info`; accepted wherever an ``info`` is."""

    __slots__ = ("info", "_info_hash", "_for")

    def __init__(self, info: bytes, info_hash: bytes | None, for_suite: tuple[object, bytes]) -> None:
        self.info = info
        self._info_hash = info_hash
        self._for = for_suite

    def __repr__(self) -> str:
        return f"<PreparedInfo {len(self.info)} octets>"


Info = bytes | PreparedInfo


class Context:
    """An HPKE encryption context (RFC 9180 §5.2). Secrets never appear in ``repr``."""

    __slots__ = ("_base_nonce", "_exporter_secret", "_hpke", "_key", "_seq")

    def __init__(self, suite: Hpke, key: bytes, base_nonce: bytes, seq: int, exporter_secret: bytes) -> None:
        self._hpke = suite
        self._key = key
        self._base_nonce = base_nonce
        self._seq = seq
        self._exporter_secret = exporter_secret

    @property
    def suite(self) -> Hpke:
        return self._hpke

    @property
    def seq(self) -> int:
        """The current sequence number (starts at 0, +1 per Seal/Open)."""
        return self._seq

    def _nonce(self) -> bytes:
        """``ComputeNonce(seq)`` and the overflow check of ``IncrementSeq`` (RFC 9180 §5.2).

        The check is done before the AEAD call; this is observably the same as the
        pseudocode, which raises after computing a result it then discards.
        """
        aead = self._hpke.aead
        if aead.n_n == 0:
            raise UnsupportedAlgorithm(f"{aead.name}: this context only supports export")
        if self._seq >= (1 << (8 * aead.n_n)) - 1:
            raise MessageLimitError("HPKE sequence number overflow")
        if self._seq == 0:  # the single-shot case (every MLS use of HPKE): base_nonce XOR 0
            return self._base_nonce
        return (int.from_bytes(self._base_nonce, "big") ^ self._seq).to_bytes(aead.n_n, "big")

    def export(self, exporter_context: bytes, length: int) -> bytes:
        """``Context.Export(exporter_context, L)`` (RFC 9180 §5.3; draft-ietf-hpke-hpke §5.3)."""
        h = self._hpke
        if h.kdf.two_stage:
            return labeled_expand(h.kdf, h.suite_id, self._exporter_secret, b"sec", exporter_context, length)
        return labeled_derive(h.kdf, h.suite_id, self._exporter_secret, b"sec", exporter_context, length)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._hpke.name} seq={self._seq}>"


class ContextS(Context):
    """Sender context: ``seal`` and ``export``."""

    __slots__ = ()

    def seal(self, aad: bytes, pt: bytes) -> bytes:
        """``ContextS.Seal(aad, pt)``: AEAD-seal with the next nonce, then increment seq."""
        ct = self._hpke.aead.seal(self._key, self._nonce(), aad, pt)
        self._seq += 1
        return ct


class ContextR(Context):
    """Recipient context: ``open`` and ``export``."""

    __slots__ = ()

    def open(self, aad: bytes, ct: bytes) -> bytes:
        """``ContextR.Open(aad, ct)``; raises DecryptError (seq unchanged) if not authentic."""
        pt = self._hpke.aead.open(self._key, self._nonce(), aad, ct)
        self._seq += 1
        return pt


class Hpke:
    """An HPKE cipher suite (KEM, KDF, AEAD) — RFC 9180 §5, draft-ietf-hpke-hpke §5."""

    def __init__(self, kem: Kem, kdf: Kdf, aead: Aead) -> None:
        self.kem = kem
        self.kdf = kdf
        self.aead = aead
        self.suite_id = b"HPKE" + kem.id.to_bytes(2, "big") + kdf.id.to_bytes(2, "big") + aead.id.to_bytes(2, "big")
        self.name = f"HPKE({kem.name}, {kdf.name}, {aead.name})"
        #: two-stage key schedule digests of public inputs that repeat (RFC 9180 §5.1):
        #: psk_id_hash of the empty psk_id, and the last info's info_hash (a commit encrypts
        #: every UpdatePath secret under the same GroupContext, RFC 9420 §12.4.1)
        self._empty_psk_id_hash: bytes | None = None
        self._last_info: tuple[bytes, bytes] | None = None

    @classmethod
    def from_ids(cls, kem_id: int, kdf_id: int, aead_id: int) -> Hpke:
        return hpke(kem_id, kdf_id, aead_id)

    def __repr__(self) -> str:
        return f"<Hpke {self.name}>"

    # -- key schedule (§5.1) ------------------------------------------------------------
    @staticmethod
    def _verify_psk_inputs(mode: Mode, psk: bytes, psk_id: bytes) -> None:
        """``VerifyPSKInputs`` (RFC 9180 §5.1)."""
        got_psk = psk != b""
        got_psk_id = psk_id != b""
        if got_psk != got_psk_id:
            raise CryptoError("HPKE: inconsistent PSK inputs")
        if got_psk and mode in (Mode.BASE, Mode.AUTH):
            raise CryptoError("HPKE: PSK input provided when not needed")
        if not got_psk and mode in (Mode.PSK, Mode.AUTH_PSK):
            raise CryptoError("HPKE: missing required PSK input")

    def _info_hash(self, info: bytes) -> bytes:
        """``LabeledExtract("", "info_hash", info)``, remembered for the last (short) info."""
        last = self._last_info
        if last is not None and last[0] == info:
            return last[1]
        digest = labeled_extract(self.kdf, self.suite_id, b"", b"info_hash", info)
        if len(info) <= 4096:  # a GroupContext-sized info; long ones go through PreparedInfo
            self._last_info = (info, digest)
        return digest

    def prepare_info(self, info: bytes) -> PreparedInfo:
        """``info`` with its key-schedule digest computed once (see :class:`PreparedInfo`)."""
        kdf, sid = self.kdf, self.suite_id
        digest = labeled_extract(kdf, sid, b"", b"info_hash", info) if kdf.two_stage else None
        return PreparedInfo(info, digest, (kdf, sid))

    def combine_secrets(
        self, mode: int, shared_secret: bytes, info: Info, psk: bytes = b"", psk_id: bytes = b""
    ) -> tuple[bytes, bytes, bytes]:
        """-> (key, base_nonce, exporter_secret) after ``VerifyPSKInputs``.

        ``CombineSecrets_TwoStage`` is RFC 9180's KeySchedule; ``CombineSecrets_OneStage``
        is draft-ietf-hpke-hpke §5.1. ``info`` may be a :class:`PreparedInfo`.
        """
        mode = Mode(mode)
        self._verify_psk_inputs(mode, psk, psk_id)
        kdf, sid = self.kdf, self.suite_id
        n_k, n_n, n_h = self.aead.n_k, self.aead.n_n, kdf.n_h
        prepared: bytes | None = None
        if isinstance(info, PreparedInfo):
            if info._for[0] is kdf and info._for[1] == sid:
                prepared = info._info_hash
            info = info.info
        if kdf.two_stage:
            if psk_id:
                psk_id_hash = labeled_extract(kdf, sid, b"", b"psk_id_hash", psk_id)
            else:
                psk_id_hash = self._empty_psk_id_hash or labeled_extract(kdf, sid, b"", b"psk_id_hash", b"")
                self._empty_psk_id_hash = psk_id_hash
            info_hash = prepared if prepared is not None else self._info_hash(info)
            ctx = bytes([mode]) + psk_id_hash + info_hash
            secret = labeled_extract(kdf, sid, shared_secret, b"secret", psk)
            key = labeled_expand(kdf, sid, secret, b"key", ctx, n_k)
            base_nonce = labeled_expand(kdf, sid, secret, b"base_nonce", ctx, n_n)
            exporter_secret = labeled_expand(kdf, sid, secret, b"exp", ctx, n_h)
            return key, base_nonce, exporter_secret
        secrets = _lp(psk) + _lp(shared_secret)
        context = bytes([mode]) + _lp(psk_id) + _lp(info)
        out = labeled_derive(kdf, sid, secrets, b"secret", context, n_k + n_n + n_h)
        return out[:n_k], out[n_k:n_k + n_n], out[n_k + n_n:]

    def key_schedule_s(self, mode: int, shared_secret: bytes, info: Info,
                       psk: bytes = b"", psk_id: bytes = b"") -> ContextS:
        return ContextS(self, *self._ks(mode, shared_secret, info, psk, psk_id))

    def key_schedule_r(self, mode: int, shared_secret: bytes, info: Info,
                       psk: bytes = b"", psk_id: bytes = b"") -> ContextR:
        return ContextR(self, *self._ks(mode, shared_secret, info, psk, psk_id))

    def _ks(self, mode: int, ss: bytes, info: Info, psk: bytes, psk_id: bytes) -> tuple[bytes, bytes, int, bytes]:
        key, base_nonce, exporter_secret = self.combine_secrets(mode, ss, info, psk, psk_id)
        return key, base_nonce, 0, exporter_secret

    # -- generic setup -----------------------------------------------------------------
    def _check_auth(self, mode: Mode) -> None:
        if mode in (Mode.AUTH, Mode.AUTH_PSK) and not self.kem.supports_auth:
            raise UnsupportedAlgorithm(f"{self.kem.name} does not support the authenticated HPKE modes")

    def setup_s(self, mode: int, pk_r: bytes, info: Info = b"", psk: bytes = b"", psk_id: bytes = b"",
                sk_s: bytes | None = None, *, ikm_e: bytes | None = None) -> tuple[bytes, ContextS]:
        """``Setup<MODE>S`` -> (enc, context). ``ikm_e`` makes the encapsulation
        deterministic (``encap_derand``; test vectors only)."""
        mode = Mode(mode)
        self._check_auth(mode)
        self._verify_psk_inputs(mode, psk, psk_id)
        auth = mode in (Mode.AUTH, Mode.AUTH_PSK)
        if auth and sk_s is None:
            raise CryptoError("HPKE: authenticated mode needs the sender private key")
        if not auth and sk_s is not None:
            raise CryptoError("HPKE: sender private key given for a non-authenticated mode")
        if auth:
            assert sk_s is not None
            if ikm_e is None:
                ss, enc = self.kem.auth_encap(pk_r, sk_s)
            else:
                derand = getattr(self.kem, "auth_encap_derand", None)
                if derand is None:
                    raise UnsupportedAlgorithm(f"{self.kem.name}: no deterministic AuthEncap")
                ss, enc = derand(pk_r, sk_s, ikm_e)
        elif ikm_e is None:
            ss, enc = self.kem.encap(pk_r)
        else:
            ss, enc = self.kem.encap_derand(pk_r, ikm_e)
        return enc, self.key_schedule_s(mode, ss, info, psk, psk_id)

    def setup_r(self, mode: int, enc: bytes, sk_r: bytes, info: Info = b"", psk: bytes = b"",
                psk_id: bytes = b"", pk_s: bytes | None = None) -> ContextR:
        """``Setup<MODE>R`` -> context."""
        mode = Mode(mode)
        self._check_auth(mode)
        self._verify_psk_inputs(mode, psk, psk_id)
        auth = mode in (Mode.AUTH, Mode.AUTH_PSK)
        if auth != (pk_s is not None):
            raise CryptoError("HPKE: the sender public key is required exactly in the authenticated modes")
        if auth:
            assert pk_s is not None
            ss = self.kem.auth_decap(enc, sk_r, pk_s)
        else:
            ss = self.kem.decap(enc, sk_r)
        return self.key_schedule_r(mode, ss, info, psk, psk_id)

    # -- named setups (RFC 9180 §5.1.1–5.1.4) -----------------------------------------
    def setup_base_s(self, pk_r: bytes, info: bytes = b"") -> tuple[bytes, ContextS]:
        return self.setup_s(Mode.BASE, pk_r, info)

    def setup_base_r(self, enc: bytes, sk_r: bytes, info: bytes = b"") -> ContextR:
        return self.setup_r(Mode.BASE, enc, sk_r, info)

    def setup_psk_s(self, pk_r: bytes, info: bytes, psk: bytes, psk_id: bytes) -> tuple[bytes, ContextS]:
        return self.setup_s(Mode.PSK, pk_r, info, psk, psk_id)

    def setup_psk_r(self, enc: bytes, sk_r: bytes, info: bytes, psk: bytes, psk_id: bytes) -> ContextR:
        return self.setup_r(Mode.PSK, enc, sk_r, info, psk, psk_id)

    def setup_auth_s(self, pk_r: bytes, info: bytes, sk_s: bytes) -> tuple[bytes, ContextS]:
        return self.setup_s(Mode.AUTH, pk_r, info, sk_s=sk_s)

    def setup_auth_r(self, enc: bytes, sk_r: bytes, info: bytes, pk_s: bytes) -> ContextR:
        return self.setup_r(Mode.AUTH, enc, sk_r, info, pk_s=pk_s)

    def setup_auth_psk_s(self, pk_r: bytes, info: bytes, psk: bytes, psk_id: bytes,
                         sk_s: bytes) -> tuple[bytes, ContextS]:
        return self.setup_s(Mode.AUTH_PSK, pk_r, info, psk, psk_id, sk_s)

    def setup_auth_psk_r(self, enc: bytes, sk_r: bytes, info: bytes, psk: bytes, psk_id: bytes,
                         pk_s: bytes) -> ContextR:
        return self.setup_r(Mode.AUTH_PSK, enc, sk_r, info, psk, psk_id, pk_s)

    # -- single-shot APIs (§6) ---------------------------------------------------------
    @staticmethod
    def _mode(psk: bytes, psk_id: bytes, auth: bool) -> Mode:
        with_psk = psk != b"" or psk_id != b""
        if auth:
            return Mode.AUTH_PSK if with_psk else Mode.AUTH
        return Mode.PSK if with_psk else Mode.BASE

    def seal(self, pk_r: bytes, info: Info, aad: bytes, pt: bytes, *, psk: bytes = b"", psk_id: bytes = b"",
             sk_s: bytes | None = None) -> tuple[bytes, bytes]:
        """``Seal<MODE>(pkR, info, aad, pt, ...)`` -> (enc, ct); the mode follows from the
        optional arguments (psk/psk_id -> psk, sk_s -> auth)."""
        enc, ctx = self.setup_s(self._mode(psk, psk_id, sk_s is not None), pk_r, info, psk, psk_id, sk_s)
        return enc, ctx.seal(aad, pt)

    def open(self, enc: bytes, sk_r: bytes, info: Info, aad: bytes, ct: bytes, *, psk: bytes = b"",
             psk_id: bytes = b"", pk_s: bytes | None = None) -> bytes:
        """``Open<MODE>(enc, skR, info, aad, ct, ...)`` -> pt (DecryptError if not authentic)."""
        ctx = self.setup_r(self._mode(psk, psk_id, pk_s is not None), enc, sk_r, info, psk, psk_id, pk_s)
        return ctx.open(aad, ct)

    # Base mode single-shot, the only mode MLS uses (RFC 9420 §5.1.3): the same steps as
    # seal()/open() (Encap/Decap, KeySchedule, one AEAD call with seq 0, whose nonce is
    # base_nonce) without the generic mode dispatch and context object; an UpdatePath
    # makes one call per copath resolution member.
    def seal_base(self, pk_r: bytes, info: Info, aad: bytes, pt: bytes) -> tuple[bytes, bytes]:
        aead = self.aead
        if aead.n_n == 0:
            raise UnsupportedAlgorithm(f"{aead.name}: this context only supports export")
        ss, enc = self.kem.encap(pk_r)
        key, base_nonce, _ = self.combine_secrets(Mode.BASE, ss, info)
        return enc, aead.seal(key, base_nonce, aad, pt)

    def open_base(self, enc: bytes, sk_r: bytes, info: Info, aad: bytes, ct: bytes) -> bytes:
        aead = self.aead
        if aead.n_n == 0:
            raise UnsupportedAlgorithm(f"{aead.name}: this context only supports export")
        ss = self.kem.decap(enc, sk_r)
        key, base_nonce, _ = self.combine_secrets(Mode.BASE, ss, info)
        return aead.open(key, base_nonce, aad, ct)

    def send_export(self, pk_r: bytes, info: bytes, exporter_context: bytes, length: int, *, psk: bytes = b"",
                    psk_id: bytes = b"", sk_s: bytes | None = None) -> tuple[bytes, bytes]:
        """``SendExport<MODE>`` -> (enc, exported secret) (§6.2)."""
        enc, ctx = self.setup_s(self._mode(psk, psk_id, sk_s is not None), pk_r, info, psk, psk_id, sk_s)
        return enc, ctx.export(exporter_context, length)

    def receive_export(self, enc: bytes, sk_r: bytes, info: bytes, exporter_context: bytes, length: int, *,
                       psk: bytes = b"", psk_id: bytes = b"", pk_s: bytes | None = None) -> bytes:
        """``ReceiveExport<MODE>`` -> exported secret (§6.2)."""
        ctx = self.setup_r(self._mode(psk, psk_id, pk_s is not None), enc, sk_r, info, psk, psk_id, pk_s)
        return ctx.export(exporter_context, length)


@functools.lru_cache(maxsize=64)
def hpke(kem_id: int, kdf_id: int, aead_id: int) -> Hpke:
    """The :class:`Hpke` suite for three IANA ids (cached)."""
    from . import get_aead, get_kdf, get_kem

    return Hpke(get_kem(kem_id), get_kdf(kdf_id), get_aead(aead_id))
