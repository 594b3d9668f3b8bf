"""APQ-MLS combiner test vectors (draft-ietf-mls-combiner): kind ``apq``, generator and verifier.

No test vectors exist for the combiner; these follow the spirit of the mlswg *passive client*
vectors (test-vectors.md): a client that never commits is given its private keys and the
Welcome pair, joins both sessions, and follows a recorded sequence of FULL and PARTIAL
commits, adds, removes and an external join, checking after each step the two sessions'
epochs and epoch authenticators and, for every FULL commit, the ``apq_psk_id`` the traditional
commit injects (§5.2). One case per (traditional suite, PQ suite, mode). The format is
documented in ``vectors/README.md`` ("APQ combiner vectors").

Verification replays the case through :class:`~mls_pq.apq.group.APQGroup` (every combiner
check applies) with the RFC 9420 §7.3 lifetime check disabled (recorded leaves expire). A
failure is typed: :class:`~mls_pq.vectors.kinds.Mismatch` naming the first differing field
(``epochs[3].t_epoch_authenticator``, ``epochs[0].apq_psk_id``, ...), or
:class:`StepRejected` naming the message the passive client rejected (with the engine's
typed error as its cause).

Generation drives four members and the passive client through the real engine; every member
processes every step and all must agree on both sessions' epoch authenticators before a step
is written down. Written by hand: no library produces combiner vectors.
"""

from __future__ import annotations

import random
from typing import Any

from ..apq.client import APQClient, APQKeyPackageBundle
from ..apq.group import APQGroup, APQProcessed
from ..apq.structs import APQ_COMPONENT_ID
from ..apq.suites import check_suite_pair, kem_class, signature_class
from ..errors import MLSError
from ..group.config import GroupConfig
from ..psk import PSK_APPLICATION
from ..suites import CipherSuite, get_suite
from .kinds import Mismatch, kind
from .seeded import seeded_randomness

KIND = "apq"
LIFETIME_NOTE = (
    "apq: replayed with the RFC 9420 §7.3 LeafNode lifetime check disabled (recorded leaves expire); "
    "every draft-ietf-mls-combiner check applies"
)
#: the step kinds of a case's ``epochs`` list
STEP_KINDS = ("full", "partial", "add", "remove", "external_join")


class StepRejected(MLSError):
    """The passive client rejected a recorded message. ``field`` names it (e.g.
    ``epochs[2].commit``); the engine's typed error is ``__cause__``."""

    def __init__(self, field_name: str, error: MLSError) -> None:
        self.field = field_name
        self.error = error
        super().__init__(f"{field_name} rejected: {type(error).__name__}: {error}")


# ---- suite pairs -------------------------------------------------------------------------------

#: the traditional partner of a PQ suite in generated vectors (KDFs differ where possible, so a
#: mix-up of the two KDFs of §5.2 shows)
_T_PARTNER = {"ML-KEM-768": 0x0001, "ML-KEM-1024": 0x0007}


def suite_pair(suite: CipherSuite) -> tuple[int, int, bool]:
    """(t_suite, pq_suite, mode) generated for ``suite`` of ``vectors generate --suite``: a
    pure-PQ-KEM suite is the PQ session's (mode 1 iff it signs with ML-DSA/SLH-DSA, with a
    classical partner); a classical suite is the traditional session's, with 0xF006 in mode 0.
    Anything else (hybrid KEMs) makes no valid combined session (§7.1.1)."""
    if kem_class(suite) == "pq":
        t, pq, mode = _T_PARTNER[suite.kem.name], suite.id, signature_class(suite) == "pq"
    elif kem_class(suite) == "classical" and signature_class(suite) == "classical":
        t, pq, mode = suite.id, 0xF006, False
    else:
        raise MLSError(f"suite 0x{suite.id:04x} ({suite.name}) is in no valid APQ-MLS suite pair "
                       "(draft-ietf-mls-combiner §7.1.1)")
    check_suite_pair(t, pq, mode)
    return t, pq, mode


def file_name(case: dict[str, Any]) -> str:
    """``apq-0x0001-0xf006-mode0.json``: one file per suite pair and mode."""
    return f"apq-0x{case['t_cipher_suite']:04x}-0x{case['pq_cipher_suite']:04x}-mode{case['mode']}.json"


# ---- generation --------------------------------------------------------------------------------


def _hex(b: bytes) -> str:
    return b.hex()


def _psk_id(res: APQProcessed) -> bytes | None:
    """The apq_psk_id the traditional commit of a FULL commit injects (§5.2), if any."""
    eff = res.t_effects
    if eff is None:
        return None
    ids = [p.psk_id for p in eff.psks if p.psktype == PSK_APPLICATION and p.component_id == APQ_COMPONENT_ID]
    return ids[0] if ids else None


def generate_case(t_suite: int, pq_suite: int, mode: bool, *, compact: bool | None = None) -> dict[str, Any]:
    """One passive-client case for the pair: see the module docstring and vectors/README.md.

    The full script (alice, bob and the passive client; bob's first FULL commit; PARTIAL
    commits; a FULL commit covering bob's FULL-flagged Update pair; carol added and her
    first FULL commit; alice removed; dave's external join; a PARTIAL commit) is used unless
    ``compact`` (default: when the PQ suite signs with ML-DSA/SLH-DSA, whose keys and
    signatures are kilobytes): then alice and the passive client only; a PARTIAL commit,
    carol added, carol's first FULL commit removing alice, dave's external join, a PARTIAL
    commit — every step kind, under 200 KB."""
    if compact is None:
        compact = signature_class(get_suite(pq_suite)) == "pq"
    names = (b"alice", b"bob", b"passive", b"carol", b"dave")
    clients = {n: APQClient.generate(t_suite, pq_suite, n) for n in names}
    alice = APQGroup.create(clients[b"alice"], mode=mode)
    kp_bob, b_bob = clients[b"bob"].key_packages()
    kp_pat, b_pat = clients[b"passive"].key_packages()
    out = alice.commit(True, add=[kp_pat] if compact else [kp_bob, kp_pat])
    alice.merge_pending_commit()
    assert out.welcome is not None
    cfg = GroupConfig(clock=None)
    members = {b"alice": alice}
    if not compact:
        members[b"bob"] = APQGroup.join(out.welcome, b_bob, config=cfg)
    passive = APQGroup.join(out.welcome, b_pat, config=cfg)
    t_b, pq_b = b_pat.t, b_pat.pq
    case: dict[str, Any] = {
        "t_cipher_suite": t_suite,
        "pq_cipher_suite": pq_suite,
        "mode": int(mode),
        "t_group_id": _hex(alice.t.group_id),
        "pq_group_id": _hex(alice.pq.group_id),
        "t_key_package": _hex(kp_pat.t),
        "t_init_priv": _hex(t_b.init_priv),
        "t_encryption_priv": _hex(t_b.encryption_priv),
        "t_signature_priv": _hex(t_b.signature_priv),
        "pq_key_package": _hex(kp_pat.pq),
        "pq_init_priv": _hex(pq_b.init_priv),
        "pq_encryption_priv": _hex(pq_b.encryption_priv),
        "pq_signature_priv": _hex(pq_b.signature_priv),
        "welcome": _hex(out.welcome),
        "initial_t_epoch": passive.t.epoch,
        "initial_pq_epoch": passive.pq.epoch,
        "initial_t_epoch_authenticator": _hex(passive.t.epoch_authenticator),
        "initial_pq_epoch_authenticator": _hex(passive.pq.epoch_authenticator),
        "epochs": [],
    }

    def record(step: str, data: bytes, sender: bytes, proposals: list[bytes] | None = None) -> None:
        """Everyone but ``sender`` processes ``data``, the passive client after ``proposals``
        (the members processed them when they were sent); all must agree."""
        for p in proposals or []:
            passive.process(p)
        results = {n: g.process(data) for n, g in members.items() if n != sender}
        res = passive.process(data)
        for n, r in results.items():
            if _psk_id(r) != _psk_id(res):
                raise MLSError(f"generation: {n!r} saw another apq_psk_id")
        for n, g in members.items():
            if g.active and (g.t.epoch_authenticator, g.pq.epoch_authenticator) != (
                passive.t.epoch_authenticator, passive.pq.epoch_authenticator
            ):
                raise MLSError(f"generation: {n!r} and the passive client disagree after a {step} step")
        psk = _psk_id(res)
        if (psk is not None) != (step != "partial"):
            raise MLSError(f"generation: a {step} step with{'out' if psk is None else ''} an apq_psk_id")
        case["epochs"].append({
            "step": step,
            "proposals": [_hex(p) for p in proposals or []],
            "commit": _hex(data),
            "t_epoch": passive.t.epoch,
            "pq_epoch": passive.pq.epoch,
            "t_epoch_authenticator": _hex(passive.t.epoch_authenticator),
            "pq_epoch_authenticator": _hex(passive.pq.epoch_authenticator),
            "apq_psk_id": None if psk is None else _hex(psk),
        })

    def commit(name: bytes, step: str, full: bool, proposals: list[bytes] | None = None, **kw: Any) -> Any:
        g = members[name]
        o = g.commit(full, **kw)
        g.merge_pending_commit()
        record(step, o.commit, name, proposals)
        return o

    def propose(name: bytes, data: bytes) -> bytes:
        for n, g in members.items():
            if n != name:
                g.process(data)
        return data

    if not compact:
        commit(b"bob", "full", True)  # §3.2: the joiner's first commit is FULL
    commit(b"alice", "partial", False)
    if not compact:
        upd = propose(b"bob", members[b"bob"].propose_update())  # an Update with the FULL flag (Fig. 1b)
        commit(b"alice", "full", True, proposals=[upd])
        commit(b"bob", "partial", False)
    kp_carol, b_carol = clients[b"carol"].key_packages()
    o = commit(b"alice", "add", True, add=[kp_carol])
    members[b"carol"] = APQGroup.join(o.welcome, b_carol, config=cfg)
    if not compact:
        commit(b"carol", "full", True)
    remover = b"carol" if compact else b"bob"  # compact: carol's first (FULL) commit removes alice
    commit(remover, "remove", True, remove=[b"alice"])
    del members[b"alice"]
    dave, data = APQGroup.join_external(members[remover].group_info(), clients[b"dave"], config=cfg)
    members[b"dave"] = dave
    record("external_join", data, b"dave")
    commit(b"carol", "partial", False)
    return case


def generate_apq(suite: CipherSuite, rng: random.Random) -> list[dict[str, Any]]:
    """The ``apq`` generator of ``mls-pq vectors generate``: one case for ``suite``'s pair
    (:func:`suite_pair`). Every random value of the case (both suites' KEMs and signature
    keys, the engine's ``os.urandom``) comes from a DRBG seeded from ``rng``
    (:func:`~mls_pq.vectors.seeded.seeded_randomness`; test vectors only), so ``--seed``
    reproduces the files byte for byte except for ML-DSA/SLH-DSA signatures."""
    t, pq, mode = suite_pair(suite)
    with seeded_randomness(rng.getrandbits(64), [get_suite(t), get_suite(pq)]):
        return [generate_case(t, pq, mode)]


def register_generators(generator: Any) -> None:
    """Called by :mod:`mls_pq.vectors.generate` to register the ``apq`` generator."""
    generator(KIND)(generate_apq)


# ---- verification ------------------------------------------------------------------------------


def _bytes(c: dict[str, Any], key: str) -> bytes:
    return bytes.fromhex(c[key])


def _expect(field_name: str, got: object, want: object) -> None:
    if got != want:
        raise Mismatch(field_name, f"computed {_shown(got)}, vector has {_shown(want)}")


def _shown(v: object) -> str:
    return v.hex() if isinstance(v, bytes) else repr(v)


def _bundle(c: dict[str, Any], side: str) -> Any:
    from ..key_package_bundle import KeyPackageBundle, parse_key_package

    return KeyPackageBundle(
        parse_key_package(_bytes(c, f"{side}_key_package")),
        _bytes(c, f"{side}_init_priv"),
        _bytes(c, f"{side}_encryption_priv"),
        _bytes(c, f"{side}_signature_priv"),
    )


@kind(KIND, notes=[LIFETIME_NOTE])
def verify_apq(c: dict[str, Any]) -> None:
    """Replay one ``apq`` case as its passive client (see the module docstring)."""
    get_suite(c["t_cipher_suite"]), get_suite(c["pq_cipher_suite"])  # UnsupportedCipherSuite if unknown
    check_suite_pair(c["t_cipher_suite"], c["pq_cipher_suite"], bool(c["mode"]))
    bundle = APQKeyPackageBundle(_bundle(c, "t"), _bundle(c, "pq"))
    try:
        g = APQGroup.join(_bytes(c, "welcome"), bundle, config=GroupConfig(clock=None))
    except MLSError as err:
        raise StepRejected("welcome", err) from err
    info = g.apq_info
    _expect("t_group_id", g.t.group_id, _bytes(c, "t_group_id"))
    _expect("pq_group_id", g.pq.group_id, _bytes(c, "pq_group_id"))
    _expect("mode", int(info.mode), c["mode"])
    _expect("t_cipher_suite", g.t.suite.id, c["t_cipher_suite"])
    _expect("pq_cipher_suite", g.pq.suite.id, c["pq_cipher_suite"])
    _expect("initial_t_epoch", g.t.epoch, c["initial_t_epoch"])
    _expect("initial_pq_epoch", g.pq.epoch, c["initial_pq_epoch"])
    _expect("initial_t_epoch_authenticator", g.t.epoch_authenticator, _bytes(c, "initial_t_epoch_authenticator"))
    _expect("initial_pq_epoch_authenticator", g.pq.epoch_authenticator, _bytes(c, "initial_pq_epoch_authenticator"))
    for i, e in enumerate(c["epochs"]):
        at = f"epochs[{i}]"
        if e["step"] not in STEP_KINDS:
            raise Mismatch(f"{at}.step", f"unknown step {e['step']!r} (known: {', '.join(STEP_KINDS)})")
        for j, p in enumerate(e.get("proposals", [])):
            try:
                g.process(bytes.fromhex(p))
            except MLSError as err:
                raise StepRejected(f"{at}.proposals[{j}]", err) from err
        try:
            res = g.process(_bytes(e, "commit"))
        except MLSError as err:
            raise StepRejected(f"{at}.commit", err) from err
        _expect(f"{at}.step", "partial" if not res.full else "full, add, remove or external_join",
                "partial" if e["step"] == "partial" else "full, add, remove or external_join")
        _expect(f"{at}.t_epoch", g.t.epoch, e["t_epoch"])
        _expect(f"{at}.pq_epoch", g.pq.epoch, e["pq_epoch"])
        _expect(f"{at}.t_epoch_authenticator", g.t.epoch_authenticator, _bytes(e, "t_epoch_authenticator"))
        _expect(f"{at}.pq_epoch_authenticator", g.pq.epoch_authenticator, _bytes(e, "pq_epoch_authenticator"))
        want = e["apq_psk_id"]
        _expect(f"{at}.apq_psk_id", _psk_id(res), None if want is None else bytes.fromhex(want))
