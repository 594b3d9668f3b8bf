"""The cipher-suite registry: suite definitions, code-point profiles and plugins.

A :class:`SuiteDef` names a construction by primitive identifiers; it carries no wire id.
A *profile* maps wire ids to definitions. The PQ suites of draft-ietf-mls-pq-ciphersuites
have no IANA numbers yet, so each implementation numbers them differently: switching
profile changes numbers, never constructions.

Built-in profiles
-----------------
``default``
    RFC 9420 suites 1–7 at their IANA values; the 11 suites of
    draft-ietf-mls-pq-ciphersuites-06 (TBD1–TBD11) at private-use values 0xF001–0xF00B
    (RFC 9420 §17.1 reserves 0xF000–0xFFFF for private use).
``ts-mls-1.6``
    The numbering of the TypeScript implementation ts-mls 1.6. Its suites 1–7 are the
    RFC 9420 suites and are identical. Its suites 77–88 are *not* draft-06 suites under
    other numbers: every one uses HKDF-SHA512 in the key schedule (draft-06 uses the KDF of
    its name), several use AES-256-GCM where the name says otherwise, and its ML-KEM
    DeriveKeyPair differs. None of them is therefore mapped to a draft-06 construction.

Plugins
-------
A package adds suites through the entry-point group ``mls_pq.suites``: each entry point
loads to a zero-argument callable returning an iterable of :class:`SuiteDef` or of
mappings with the same keys plus ``id`` (and optionally ``profiles``). At run time
:func:`register_suite` does the same.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from .. import crypto
from ..crypto.base import SignatureScheme
from ..crypto.hash import BY_NAME as HASHES
from ..errors import MLSError, UnsupportedAlgorithm, UnsupportedCipherSuite
from .cipher_suite import CipherSuite

ENTRY_POINT_GROUP = "mls_pq.suites"
DEFAULT_PROFILE = "default"


@dataclass(frozen=True)
class SuiteDef:
    """A construction: which primitives make the suite. No wire id (that is the profile's)."""

    name: str
    kem: int
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

    def build(self, suite_id: int, profile: str) -> CipherSuite:
        if not isinstance(self.signature, int):
            crypto.register_signature(self.signature)
        return CipherSuite(
            id=suite_id,
            name=self.name,
            kem=crypto.get_kem(self.kem),
            kdf=crypto.get_kdf(self.kdf),
            aead=crypto.get_aead(self.aead),
            hash=HASHES[self.hash],
            signature=crypto.get_signature(self.signature_id),
            security_level=self.security_level,
            source=self.source,
            profile=profile,
            hpke_kdf=crypto.get_kdf(self.hpke_kdf) if self.hpke_kdf is not None else None,
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


def _builtin_profiles() -> dict[str, dict[int, SuiteDef]]:
    default = dict(RFC9420_SUITES)
    for i, (_tbd, d) in enumerate(PQ_SUITES, start=1):
        default[PQ_DEFAULT_BASE + i] = d
    ts_mls = dict(RFC9420_SUITES)  # 77–88: different constructions, see module docstring
    return {DEFAULT_PROFILE: default, "ts-mls-1.6": ts_mls}


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
                except Exception as e:  # a broken plugin must not break the built-ins
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
                suite = defn.build(suite_id, name)
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
    return REGISTRY.get(suite_id, profile)


def register_suite(
    defn: SuiteDef, suite_id: int, profiles: Iterable[str] | str | None = None, replace: bool = False
) -> None:
    REGISTRY.register(defn, suite_id, profiles, replace)


def all_suites(profile: str | None = None) -> list[CipherSuite]:
    return REGISTRY.all(profile)


def suite_ids(profile: str | None = None) -> list[int]:
    return REGISTRY.ids(profile)
