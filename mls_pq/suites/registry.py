"""The cipher-suite registry: suite definitions, code-point profiles and plugins.

A :class:`SuiteDef` names a construction by primitive identifiers (or primitive objects,
for variants); it carries no wire id. A *profile* maps wire ids to definitions. The PQ
suites of draft-ietf-mls-pq-ciphersuites have no IANA numbers yet, so each implementation
numbers them differently: a definition keeps its construction whatever number a profile
gives it. A profile may also hold constructions of its own (``ts-mls-1.6``), which no
other profile sees.

Built-in profiles
-----------------
``default``
    RFC 9420 suites 1–7 at their IANA values; the 11 suites of
    draft-ietf-mls-pq-ciphersuites-06 (TBD1–TBD11) at private-use values 0xF001–0xF00B
    (RFC 9420 §17.1 reserves 0xF000–0xFFFF for private use).
``ts-mls-1.6``
    The numbering *and constructions* of the TypeScript implementation ts-mls 1.6
    (https://github.com/LukaJCB/ts-mls), so that mls-pq can talk to it. Suites 1, 3, 4, 6
    are the RFC 9420 definitions themselves. Suites 2, 5, 7 are RFC 9420 on the wire but
    their ECDSA verifier also accepts *compressed* SEC1 public keys, because ts-mls emits
    those (RFC 9420 §5.1.1 asks for uncompressed points; the default profile stays strict,
    and mls-pq itself still emits uncompressed keys). Ids 77–88 are ts-mls's own PQ suites,
    which are *not* draft-06 suites renumbered (see :data:`TSMLS_PQ_SUITES`): the MLS KDF
    is HKDF-SHA512 for every one of them (HPKE too), while the tree/transcript/reference
    hash and the MAC use the hash of the name; suite 77 uses AES-256-GCM although its name
    says AES128GCM; ML-KEM DeriveKeyPair takes the 64-byte node secret as ``d || z``
    unchanged (``"raw-seed"``) and X-Wing DeriveKeyPair is ``SHAKE256(ikm, 32)``
    (``"xwing-draft"``) instead of draft-ietf-hpke-pq's LabeledDerive. Their names are
    ts-mls's with the ``MLS_`` prefix replaced by ``TSMLS_``.

Plugins
-------
A package adds suites through the entry-point group ``mls_pq.suites``: each entry point
loads to a zero-argument callable returning an iterable of :class:`SuiteDef` or of
mappings with the same keys plus ``id`` (and optionally ``profiles``). At run time
:func:`register_suite` does the same.

Primitive variants
------------------
``SuiteDef.kem`` and ``SuiteDef.signature`` take either a code point (looked up in
:mod:`mls_pq.crypto`) or a primitive object. An object whose code point is free is also
registered globally (so ``mls_pq.crypto.get_signature(id)`` resolves a plugin's scheme);
an object whose code point is taken — a *variant* of a standard primitive, such as the
ts-mls DeriveKeyPair modes — is used by its suite only and never replaces the standard
primitive for other suites.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import mls_pq.crypto as crypto  # noqa: PLR0402  (the module, not the package: no edge to mls_pq/__init__)

from ..crypto.base import Kem, SignatureScheme
from ..crypto.hash import BY_NAME as HASHES
from ..errors import MLSError, UnsupportedAlgorithm, UnsupportedCipherSuite
from .cipher_suite import BARE_EXTERNAL_PUB, CipherSuite

ENTRY_POINT_GROUP = "mls_pq.suites"
DEFAULT_PROFILE = "default"


@dataclass(frozen=True)
class SuiteDef:
    """A construction: which primitives make the suite. No wire id (that is the profile's)."""

    name: str
    kem: int | Kem
    kdf: int
    aead: int
    hash: str
    signature: int | SignatureScheme
    security_level: int
    source: str
    hpke_kdf: int | None = None  # HPKE's KDF when it differs from the MLS KDF

    @property
    def signature_id(self) -> int:
        return self.signature if isinstance(self.signature, int) else self.signature.id

    @property
    def kem_id(self) -> int:
        return self.kem if isinstance(self.kem, int) else self.kem.id

    def _kem(self) -> Kem:
        if isinstance(self.kem, int):
            return crypto.get_kem(self.kem)
        if self.kem.id not in crypto.kem_ids():
            crypto.register_kem(self.kem)
        return self.kem  # a variant of a registered KEM: used by this suite only

    def _signature(self) -> SignatureScheme:
        if isinstance(self.signature, int):
            return crypto.get_signature(self.signature)
        if self.signature.id not in crypto.signature_ids():
            crypto.register_signature(self.signature)
        return self.signature  # a variant of a registered scheme: used by this suite only

    def build(self, suite_id: int, profile: str, quirks: frozenset[str] = frozenset()) -> CipherSuite:
        return CipherSuite(
            id=suite_id,
            name=self.name,
            kem=self._kem(),
            kdf=crypto.get_kdf(self.kdf),
            aead=crypto.get_aead(self.aead),
            hash=HASHES[self.hash],
            signature=self._signature(),
            security_level=self.security_level,
            source=self.source,
            profile=profile,
            hpke_kdf=crypto.get_kdf(self.hpke_kdf) if self.hpke_kdf is not None else None,
            quirks=quirks,
        )


RFC9420 = "RFC 9420 §17.1"
PQ06 = "draft-ietf-mls-pq-ciphersuites-06"

# Signature scheme code points (TLS SignatureScheme registry; ML-DSA per draft-ietf-tls-mldsa).
_ED25519, _ED448 = 0x0807, 0x0808
_P256, _P384, _P521 = 0x0403, 0x0503, 0x0603
_MLDSA44, _MLDSA65, _MLDSA87 = 0x0904, 0x0905, 0x0906

#: RFC 9420 §17.1, Table 3 — (id, definition)
RFC9420_SUITES: tuple[tuple[int, SuiteDef], ...] = (
    (0x0001, SuiteDef("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519", 0x0020, 1, 1, "SHA256", _ED25519, 128, RFC9420)),
    (0x0002, SuiteDef("MLS_128_DHKEMP256_AES128GCM_SHA256_P256", 0x0010, 1, 1, "SHA256", _P256, 128, RFC9420)),
    (0x0003, SuiteDef("MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519", 0x0020, 1, 3, "SHA256", _ED25519, 128, RFC9420)),
    (0x0004, SuiteDef("MLS_256_DHKEMX448_AES256GCM_SHA512_Ed448", 0x0021, 3, 2, "SHA512", _ED448, 256, RFC9420)),
    (0x0005, SuiteDef("MLS_256_DHKEMP521_AES256GCM_SHA512_P521", 0x0012, 3, 2, "SHA512", _P521, 256, RFC9420)),
    (0x0006, SuiteDef("MLS_256_DHKEMX448_CHACHA20POLY1305_SHA512_Ed448", 0x0021, 3, 3, "SHA512", _ED448, 256, RFC9420)),
    (0x0007, SuiteDef("MLS_256_DHKEMP384_AES256GCM_SHA384_P384", 0x0011, 2, 2, "SHA384", _P384, 192, RFC9420)),
)

#: draft-ietf-mls-pq-ciphersuites-06 §3.1, Tables 1 and 2 — (TBD label, definition)
PQ_SUITES: tuple[tuple[str, SuiteDef], ...] = (
    ("TBD1", SuiteDef("MLS_128_MLKEM768X25519_AES128GCM_SHA256_Ed25519", 0x647A, 1, 1, "SHA256", _ED25519, 128, PQ06)),
    ("TBD2", SuiteDef("MLS_128_MLKEM768X25519_AES256GCM_SHA384_Ed25519", 0x647A, 2, 2, "SHA384", _ED25519, 128, PQ06)),
    ("TBD3", SuiteDef("MLS_128_MLKEM768P256_AES128GCM_SHA256_P256", 0x0050, 1, 1, "SHA256", _P256, 128, PQ06)),
    ("TBD4", SuiteDef("MLS_128_MLKEM768P256_AES256GCM_SHA384_P256", 0x0050, 2, 2, "SHA384", _P256, 128, PQ06)),
    ("TBD5", SuiteDef("MLS_192_MLKEM1024P384_AES256GCM_SHA384_P384", 0x0051, 2, 2, "SHA384", _P384, 192, PQ06)),
    ("TBD6", SuiteDef("MLS_128_MLKEM768_AES256GCM_SHA384_Ed25519", 0x0041, 2, 2, "SHA384", _ED25519, 128, PQ06)),
    ("TBD7", SuiteDef("MLS_128_MLKEM768_AES256GCM_SHA384_P256", 0x0041, 2, 2, "SHA384", _P256, 128, PQ06)),
    ("TBD8", SuiteDef("MLS_192_MLKEM1024_AES256GCM_SHA384_P384", 0x0042, 2, 2, "SHA384", _P384, 192, PQ06)),
    ("TBD9", SuiteDef("MLS_128_MLKEM768X25519_CHACHA20POLY1305_SHA384_MLDSA44", 0x647A, 2, 3, "SHA384", _MLDSA44, 128, PQ06)),
    ("TBD10", SuiteDef("MLS_192_MLKEM768_AES256GCM_SHA384_MLDSA65", 0x0041, 2, 2, "SHA384", _MLDSA65, 192, PQ06)),
    ("TBD11", SuiteDef("MLS_256_MLKEM1024_AES256GCM_SHA384_MLDSA87", 0x0042, 2, 2, "SHA384", _MLDSA87, 256, PQ06)),
)

#: private-use numbers of the default profile for TBD1..TBD11
PQ_DEFAULT_BASE = 0xF000


TSMLS = "ts-mls 1.6 (https://github.com/LukaJCB/ts-mls)"
TSMLS_PROFILE = "ts-mls-1.6"


def _tsmls_ecdsa_variants() -> dict[int, SignatureScheme]:
    """ECDSA verifiers for the ts-mls profile that also accept compressed SEC1 keys.

    ts-mls 1.6.4 (``@noble/curves`` ``getPublicKey`` default) emits compressed points
    (33/49/67 bytes) as signature public keys, against RFC 9420 §5.1.1 (uncompressed
    points). Signing and emitted keys are unchanged (uncompressed). Hand-written: a
    two-line relaxation of :class:`mls_pq.crypto.signature.Ecdsa`'s key parser; the
    point decompression and on-curve check are ``cryptography``'s.
    """
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    from ..crypto.signature import Ecdsa

    class CompressedTolerantEcdsa(Ecdsa):
        def _parse_pk(self, pk: bytes) -> ec.EllipticCurvePublicKey:
            if len(pk) == 1 + self.sk_size and pk[0] in (2, 3):
                return ec.EllipticCurvePublicKey.from_encoded_point(self._curve, pk)
            return super()._parse_pk(pk)

    note = " (ts-mls: compressed keys accepted)"
    return {
        _P256: CompressedTolerantEcdsa(_P256, "ecdsa_secp256r1_sha256" + note, ec.SECP256R1(), hashes.SHA256(), 256),
        _P384: CompressedTolerantEcdsa(_P384, "ecdsa_secp384r1_sha384" + note, ec.SECP384R1(), hashes.SHA384(), 384),
        _P521: CompressedTolerantEcdsa(_P521, "ecdsa_secp521r1_sha512" + note, ec.SECP521R1(), hashes.SHA512(), 521),
    }


@functools.cache
def tsmls_suites() -> tuple[tuple[int, SuiteDef], ...]:
    """The suites of the ``ts-mls-1.6`` profile: (id, definition), ids 1–7 and 77–88.

    Facts about ts-mls 1.6.4, each checked against independent libraries by
    tests/interop/test_tsmls_constructions.py: for 77–88 the MLS KDF (and HPKE's) is
    HKDF-SHA512 whatever the name; the MLS hash (tree/transcript hashes, RefHash, MAC) is
    the hash of the name; AEAD is AES-256-GCM for odd ids (77 included) and
    ChaCha20-Poly1305 for even ids; HPKE is RFC 9180 base mode with KEM ids 0x0040/0x0041/
    0x0042/0x647A; ML-KEM DeriveKeyPair uses the 64-byte secret as ``d || z`` and X-Wing's
    is ``SHAKE256(ikm, 32)``; ML-DSA-87 is pure with an empty context.
    """
    from ..crypto.hybrid import XWING
    from ..crypto.mlkem import MLKEM512, MLKEM768, MLKEM1024

    ecdsa = _tsmls_ecdsa_variants()
    rfc: list[tuple[int, SuiteDef]] = []
    for sid, std in RFC9420_SUITES:
        if std.signature_id in ecdsa:
            std = dataclasses.replace(
                std, signature=ecdsa[std.signature_id], source=f"{RFC9420}; {TSMLS}: compressed ECDSA keys accepted"
            )
        rfc.append((sid, std))
    k512, k768, k1024 = (k.with_derive_mode("raw-seed") for k in (MLKEM512, MLKEM768, MLKEM1024))
    xwing = XWING.with_derive_mode("xwing-draft")
    aes, chacha, sha512 = 0x0002, 0x0003, 0x0003

    def ts(name: str, kem: Kem, aead: int, hash_: str, sig: int, level: int) -> SuiteDef:
        return SuiteDef(f"TSMLS_{name}", kem, sha512, aead, hash_, sig, level, TSMLS)

    pq = (
        (77, ts("128_MLKEM512_AES128GCM_SHA256_Ed25519", k512, aes, "SHA256", _ED25519, 128)),  # AES-256-GCM!
        (78, ts("128_MLKEM512_CHACHA20POLY1305_SHA256_Ed25519", k512, chacha, "SHA256", _ED25519, 128)),
        (79, ts("256_MLKEM768_AES256GCM_SHA384_Ed25519", k768, aes, "SHA384", _ED25519, 256)),
        (80, ts("256_MLKEM768_CHACHA20POLY1305_SHA384_Ed25519", k768, chacha, "SHA384", _ED25519, 256)),
        (81, ts("256_MLKEM1024_AES256GCM_SHA512_Ed25519", k1024, aes, "SHA512", _ED25519, 256)),
        (82, ts("256_MLKEM1024_CHACHA20POLY1305_SHA512_Ed25519", k1024, chacha, "SHA512", _ED25519, 256)),
        (83, ts("256_XWING_AES256GCM_SHA512_Ed25519", xwing, aes, "SHA512", _ED25519, 256)),
        (84, ts("256_XWING_CHACHA20POLY1305_SHA512_Ed25519", xwing, chacha, "SHA512", _ED25519, 256)),
        (85, ts("256_MLKEM1024_AES256GCM_SHA512_MLDSA87", k1024, aes, "SHA512", _MLDSA87, 256)),
        (86, ts("256_MLKEM1024_CHACHA20POLY1305_SHA512_MLDSA87", k1024, chacha, "SHA512", _MLDSA87, 256)),
        (87, ts("256_XWING_AES256GCM_SHA512_MLDSA87", xwing, aes, "SHA512", _MLDSA87, 256)),
        (88, ts("256_XWING_CHACHA20POLY1305_SHA512_MLDSA87", xwing, chacha, "SHA512", _MLDSA87, 256)),
    )
    return (*rfc, *pq)


#: the wire deviations each profile tolerates, carried by its suites (``CipherSuite.quirks``):
#: ts-mls 1.6.4 writes the ``external_pub`` extension as the bare public key (and reads only
#: that form); mls-pq always writes the RFC 9420 §12.4.3.2 form. Standard profiles have none.
PROFILE_QUIRKS: dict[str, frozenset[str]] = {TSMLS_PROFILE: frozenset({BARE_EXTERNAL_PUB})}


def _builtin_profiles() -> dict[str, dict[int, SuiteDef]]:
    default = dict(RFC9420_SUITES)
    for i, (_tbd, d) in enumerate(PQ_SUITES, start=1):
        default[PQ_DEFAULT_BASE + i] = d
    return {DEFAULT_PROFILE: default, TSMLS_PROFILE: dict(tsmls_suites())}


class Registry:
    """Maps (profile, wire id) to suite definitions and builds :class:`CipherSuite` objects."""

    def __init__(self, load_plugins: bool = True) -> None:
        self._profiles = _builtin_profiles()
        self._built: dict[tuple[str, int], CipherSuite] = {}
        self._plugins_loaded = not load_plugins
        self._plugin_errors: list[str] = []
        self._lock = threading.Lock()
        self.active_profile = DEFAULT_PROFILE

    # ---- plugins -----------------------------------------------------------------------
    def _ensure_plugins(self) -> None:
        if self._plugins_loaded:
            return
        with self._lock:
            if self._plugins_loaded:
                return
            self._plugins_loaded = True
            for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
                try:
                    provider = ep.load()
                    for item in provider():
                        self._register_item(item, origin=f"entry point {ep.name!r} ({ep.value})")
                except Exception as e:  # noqa: BLE001  (a broken plugin must not break the built-ins)
                    self._plugin_errors.append(f"{ep.name}: {type(e).__name__}: {e}")

    @property
    def plugin_errors(self) -> list[str]:
        self._ensure_plugins()
        return list(self._plugin_errors)

    def _register_item(self, item: SuiteDef | Mapping[str, Any], origin: str) -> None:
        if isinstance(item, SuiteDef):
            raise MLSError(f"{origin}: a SuiteDef needs an id: pass a mapping with 'id' or use register_suite")
        d = dict(item)
        suite_id = int(d.pop("id"))
        profiles = d.pop("profiles", None)
        d.setdefault("source", origin)
        defn = SuiteDef(**d)
        self.register(defn, suite_id, profiles=profiles)

    # ---- registration ------------------------------------------------------------------
    def register(
        self, defn: SuiteDef, suite_id: int, profiles: Iterable[str] | str | None = None, replace: bool = False
    ) -> None:
        """Register ``defn`` at ``suite_id`` in the given profiles (default: every profile)."""
        if not 0 < suite_id <= 0xFFFF:
            raise MLSError(f"suite id {suite_id} is outside uint16")
        if isinstance(profiles, str):
            profiles = [profiles]
        names = list(profiles) if profiles is not None else list(self._profiles)
        for p in names:
            table = self._profiles.setdefault(p, {})
            if suite_id in table and table[suite_id] != defn and not replace:
                raise MLSError(f"suite id 0x{suite_id:04x} is already registered in profile {p!r} as {table[suite_id].name}")
            table[suite_id] = defn
            self._built.pop((p, suite_id), None)

    # ---- lookup ------------------------------------------------------------------------
    def profiles(self) -> list[str]:
        self._ensure_plugins()
        return sorted(self._profiles)

    def _table(self, profile: str | None) -> tuple[str, dict[int, SuiteDef]]:
        self._ensure_plugins()
        name = profile or self.active_profile
        try:
            return name, self._profiles[name]
        except KeyError:
            raise MLSError(f"unknown code-point profile {name!r}; known: {', '.join(sorted(self._profiles))}") from None

    def ids(self, profile: str | None = None) -> list[int]:
        return sorted(self._table(profile)[1])

    def definition(self, suite_id: int, profile: str | None = None) -> SuiteDef:
        name, table = self._table(profile)
        try:
            return table[suite_id]
        except KeyError:
            raise UnsupportedCipherSuite(suite_id, list(table), name) from None

    def get(self, suite_id: int, profile: str | None = None) -> CipherSuite:
        """The suite at ``suite_id``; raises :class:`UnsupportedCipherSuite` if unknown or unbuildable."""
        name, table = self._table(profile)
        key = (name, suite_id)
        suite = self._built.get(key)
        if suite is None:
            defn = self.definition(suite_id, name)
            try:
                suite = defn.build(suite_id, name, PROFILE_QUIRKS.get(name, frozenset()))
            except UnsupportedAlgorithm as e:
                raise UnsupportedCipherSuite(suite_id, list(table), name) from e
            self._built[key] = suite
        return suite

    def all(self, profile: str | None = None) -> list[CipherSuite]:
        return [self.get(i, profile) for i in self.ids(profile)]

    def id_of(self, name: str, profile: str | None = None) -> int:
        pname, table = self._table(profile)
        for sid, d in table.items():
            if d.name == name:
                return sid
        raise MLSError(f"no suite named {name!r} in profile {pname!r}")


REGISTRY = Registry()


def get_suite(suite_id: int, profile: str | None = None) -> CipherSuite:
    """The registered suite ``suite_id`` (RFC 9420 §17.1 code point) in ``profile`` (default:
    the default profile); :class:`~mls_pq.errors.UnsupportedCipherSuite` if none is registered."""
    return REGISTRY.get(suite_id, profile)


def register_suite(
    defn: SuiteDef, suite_id: int, profiles: Iterable[str] | str | None = None, replace: bool = False
) -> None:
    """Register ``defn`` under code point ``suite_id`` in ``profiles`` (default: every
    profile); an existing registration is an error unless ``replace``. Suite plugins call this
    from their entry point (see the README, "Adding a suite")."""
    REGISTRY.register(defn, suite_id, profiles, replace)


def all_suites(profile: str | None = None) -> list[CipherSuite]:
    """Every suite registered in ``profile`` (default: the default profile), by code point."""
    return REGISTRY.all(profile)


def suite_ids(profile: str | None = None) -> list[int]:
    """The code points registered in ``profile`` (default: the default profile), ascending."""
    return REGISTRY.ids(profile)
