"""Analytic message sizes (RFC 9420 wire encodings) for any suite, group size and tree shape.

Nothing here runs the engine: sizes follow from the TLS presentation-language structs of
RFC 9420 (§2.1.2 variable-length vectors, §5.3 Credential, §6 framing, §7.1/7.2 tree nodes,
§7.6 UpdatePath, §10 KeyPackage, §12.4.3 GroupInfo/Welcome) and the suite's element sizes
(HPKE public key and encapsulation, AEAD tag, hash/KDF output, signature key and
signature). The benchmark scenarios (:mod:`mls_pq.bench.scenarios`) are mirrored exactly:
fixed 8-octet identities, the default capabilities, empty authenticated data, no padding,
a ``ratchet_tree`` and ``external_pub`` extension in GroupInfos.

The tree shape is simulated on a bare array of node *kinds* (blank, key-package leaf,
commit leaf, parent with/without parent hash and its unmerged leaves) using the RFC's
array-tree arithmetic (Appendix C) and the operations the scenario performs: the bulk add,
commits with an UpdatePath (§7.5: the direct path is blanked, the filtered direct path set,
the topmost node gets an empty parent_hash) and adds (§7.7: leftmost blank leaf, the new
leaf becomes an unmerged leaf of every non-blank ancestor). An UpdatePath from leaf ``x``
carries, per filtered direct path node, one HPKE ciphertext per node of the copath child's
resolution (§7.6): that is how N enters the commit size.

Signatures: Ed25519/Ed448/ML-DSA signatures have a fixed length; ECDSA signatures are DER
(RFC 9420 §5.1.1) and vary by a few octets. Every size function takes a :class:`SigSource`
giving the length of each signature it encodes; :data:`NOMINAL` uses the scheme's maximum
(``sig_size``), :func:`sig_range` gives the bounds over per-signature DER lengths
(the lower bound takes each DER INTEGER two octets shorter than its maximum; a signature
is shorter still with probability below 2^-15). The size tests pass the lengths found in
the measured messages, so the model is checked octet for octet for every suite.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from ..suites import CipherSuite
from .scenarios import GROUP_ID, IDENTITY_LEN, SIZE_METRICS, populating_leaves

# ---- encoding helpers (RFC 9420 §2.1.2) ----------------------------------------------------


#: RFC 9420 §2.1.2: a variable-length vector holds at most 2^30 - 1 octets
MAX_VECTOR = (1 << 30) - 1


class TooLong(ValueError):
    """A vector of the message would exceed :data:`MAX_VECTOR` octets: MLS cannot encode it."""


def varint_len(n: int) -> int:
    """Octets of the variable-length integer prefix of a vector of ``n`` octets."""
    if n < 1 << 6:
        return 1
    if n < 1 << 14:
        return 2
    if n < 1 << 30:
        return 4
    raise TooLong(f"a vector of {n} octets exceeds the MLS limit of 2^30-1 (RFC 9420 §2.1.2)")


Parts = Counter[str]
#: breakdown categories ("why" a message has its size)
CATEGORIES = ("signature", "signature_key", "hpke_key", "kem_output", "secret_or_hash", "aead_tag", "framing")


def _p(**kw: int) -> Parts:
    return Counter(kw)


def opaque(inner: Parts | int, cat: str = "framing") -> Parts:
    """``opaque x<V>`` around ``inner`` (a breakdown, or a plain octet count in ``cat``)."""
    c = inner.copy() if isinstance(inner, Counter) else Counter({cat: inner})
    c["framing"] += varint_len(sum(c.values()))
    return c


def total(p: Parts) -> int:
    return sum(p.values())


# ---- suite element sizes ------------------------------------------------------------------------


@dataclass(frozen=True)
class SuiteSizes:
    """The element sizes of a suite that message sizes depend on."""

    suite_id: int
    name: str
    n_h: int  # KDF.Nh: secrets (path secrets, joiner secret)
    hash_len: int  # Hash.Nh: references, tree/parent/transcript hashes, MAC tags
    n_pk: int  # HPKE public key
    n_enc: int  # KEM encapsulation
    n_t: int  # AEAD tag
    sig_pk: int  # signature public key
    sig: int  # signature (maximum for DER-encoded ECDSA)
    sig_min: int  # smallest likely signature (= sig for fixed-length schemes)

    @classmethod
    def of(cls, suite: CipherSuite) -> SuiteSizes:
        s = suite.signature
        sig_min = s.sig_size
        if "ECDSA" in s.name.upper():
            sig_min = _ecdsa_min(s.sig_size)
        return cls(
            suite.id,
            suite.name,
            suite.n_h,
            suite.hash.size,
            suite.kem.n_pk,
            suite.kem.n_enc,
            suite.aead.n_t,
            s.pk_size,
            s.sig_size,
            sig_min,
        )

    @property
    def fixed_sig(self) -> bool:
        return self.sig == self.sig_min


def _ecdsa_min(max_der: int) -> int:
    """A DER ECDSA-Sig-Value whose two INTEGERs are each two octets shorter than their
    maximum (e.g. 31 instead of 33 octets for P-256): a signature is shorter still only
    with probability below 2^-15 (see the module docstring)."""
    seq_hdr = 3 if max_der - 3 >= 128 else 2
    ints_max = max_der - seq_hdr - 4  # content octets of r and s together
    content = ints_max - 4 + 4  # two octets less each, plus the two INTEGER headers
    return content + (3 if content >= 128 else 2)


# ---- signature lengths --------------------------------------------------------------------------


class SigSource(Protocol):
    """Length of each signature a size function encodes.

    ``role`` is one of ``kp`` / ``kp_leaf`` (the KeyPackage being added and its leaf),
    ``content`` (the FramedContent signature), ``path_leaf`` (the UpdatePath leaf), ``gi``
    (GroupInfo), ``leaf`` (leaf ``index`` of the encoded tree); ``metric`` says which
    message is being sized."""

    def __call__(self, metric: str, role: str, index: int | None = None) -> int: ...


def nominal(p: SuiteSizes, which: str = "max") -> SigSource:
    """Every signature at the scheme's maximum (``max``) or likely minimum (``min``) length."""
    n = p.sig if which == "max" else p.sig_min

    def src(metric: str, role: str, index: int | None = None) -> int:
        return n

    src.constant = n  # type: ignore[attr-defined]  # lets tree sizes use a cached histogram
    return src


# ---- tree shapes (RFC 9420 Appendix C array arithmetic) ---------------------------------------------


def _level(x: int) -> int:
    k = 0
    while (x >> k) & 1:
        k += 1
    return k


def _parent(x: int, width_nodes: int) -> int:
    k = _level(x)
    b = (x >> (k + 1)) & 1
    return (x | (1 << k)) ^ (b << (k + 1))


def _root(n_nodes: int) -> int:
    return (1 << (n_nodes.bit_length() - 1)) - 1


def _left(x: int) -> int:
    k = _level(x)
    return x ^ (1 << (k - 1))


def _right(x: int) -> int:
    k = _level(x)
    return x ^ (3 << (k - 1))


def _direct_path(x: int, n_nodes: int) -> list[int]:
    r = _root(n_nodes)
    out = []
    while x != r:
        x = _parent(x, n_nodes)
        out.append(x)
    return out


#: a node kind: None (blank); ("leaf", has_parent_hash) with has_parent_hash None for a
#: key-package leaf; ("parent", has_parent_hash, n_unmerged)
NodeKind = tuple[str, bool | None] | tuple[str, bool, int] | None


class TreeShape:
    """The kinds of the nodes of a ratchet tree, and the tree operations of the scenarios."""

    def __init__(self, nodes: list[NodeKind]) -> None:
        self.nodes = nodes
        self._hist: dict[int | None, tuple[int, Counter[tuple[object, ...]]]] = {}

    def histogram(self, new_leaf: int | None = None) -> tuple[int, Counter[tuple[object, ...]]]:
        """(blank nodes, count per node kind) of the encoded tree (trailing blanks cut);
        a leaf's kind is ``("leaf", has_parent_hash, is_new_leaf)``. Cached."""
        got = self._hist.get(new_leaf)
        if got is not None:
            return got
        nodes = self.nodes
        end = len(nodes)
        while end and nodes[end - 1] is None:
            end -= 1
        kinds: Counter[tuple[object, ...]] = Counter()
        blanks = 0
        for x in range(end):
            k = nodes[x]
            if k is None:
                blanks += 1
            elif k[0] == "leaf":
                kinds[("leaf", k[1], x // 2 == new_leaf)] += 1
            else:
                kinds[("parent", bool(k[1]), int(k[2]))] += 1  # type: ignore[misc]
        self._hist[new_leaf] = (blanks, kinds)
        return blanks, kinds

    @classmethod
    def bulk(cls, n: int) -> TreeShape:
        """Creator plus ``n-1`` members added in one commit without a path: all parents blank."""
        width = 1
        while width < n:
            width *= 2
        nodes: list[NodeKind] = [None] * (2 * width - 1)
        for i in range(n):
            nodes[2 * i] = ("leaf", None)
        return cls(nodes)

    def copy(self) -> TreeShape:
        return TreeShape(list(self.nodes))

    @property
    def n_nodes(self) -> int:
        return len(self.nodes)

    def resolution_size(self, x: int) -> int:
        """|resolution(x)| (§4.1.2)."""
        n = self.nodes[x]
        if n is not None:
            return 1 + (n[2] if n[0] == "parent" else 0)  # type: ignore[misc]
        if x % 2 == 0:
            return 0
        return self.resolution_size(_left(x)) + self.resolution_size(_right(x))

    def filtered_path(self, leaf: int) -> list[tuple[int, int]]:
        """(node, ciphertext count) along the filtered direct path of ``leaf`` (§4.1.2, §7.6)."""
        out = []
        child = 2 * leaf
        for p in _direct_path(child, self.n_nodes):
            s = _right(p) if child < p else _left(p)
            r = self.resolution_size(s)
            if r:
                out.append((p, r))
            child = p
        return out

    def commit(self, leaf: int) -> list[int]:
        """Apply an UpdatePath from ``leaf`` (§7.5); returns the ciphertext count per node."""
        self._hist.clear()
        fp = self.filtered_path(leaf)
        for p in _direct_path(2 * leaf, self.n_nodes):
            self.nodes[p] = None
        for k, (p, _) in enumerate(fp):
            self.nodes[p] = ("parent", k != len(fp) - 1, 0)  # the topmost has an empty parent_hash
        self.nodes[2 * leaf] = ("leaf", bool(fp))
        return [c for _, c in fp]

    def add(self) -> int:
        """Add a member (§7.7, §12.1.1): leftmost blank leaf (the array doubles when the
        tree is full); the new leaf is unmerged at every non-blank ancestor."""
        self._hist.clear()
        for x in range(0, self.n_nodes, 2):
            if self.nodes[x] is None:
                break
        else:
            old = self.n_nodes
            self.nodes.extend([None] * (old + 1))
            x = old + 1
        for p in _direct_path(x, self.n_nodes):
            n = self.nodes[p]
            if n is not None:
                self.nodes[p] = ("parent", bool(n[1]), int(n[2]) + 1)  # type: ignore[misc]
        self.nodes[x] = ("leaf", None)
        return x // 2

    def leaves(self) -> list[int]:
        return [x // 2 for x in range(0, self.n_nodes, 2) if self.nodes[x] is not None]


@dataclass(frozen=True)
class ShapeFacts:
    """Everything size-relevant about one scenario state (suite-independent)."""

    n: int
    shape: str
    tree: TreeShape  # the committer's tree
    update_path: tuple[int, ...]  # ciphertexts per UpdatePath node of leaf 0
    tree_after_add: TreeShape  # after adding one member (Welcome)
    new_leaf: int
    external_path: tuple[int, ...]  # ciphertexts per node of an external joiner's path
    tree_after_external: TreeShape


@functools.lru_cache(maxsize=64)
def shape_facts(n: int, shape: str) -> ShapeFacts:
    """Simulate the scenario's tree operations for ``n`` members and ``shape``."""
    t = TreeShape.bulk(n)
    if shape == "populated":
        for leaf in populating_leaves(n):
            t.commit(leaf)
    elif shape != "sparse":
        raise ValueError(f"unknown shape {shape!r}")
    upd = tuple(c for _, c in t.filtered_path(0))
    after_add = t.copy()
    new_leaf = after_add.add()
    ext = t.copy()
    joiner = ext.add()
    ext_path = tuple(ext.commit(joiner))
    return ShapeFacts(n, shape, t, upd, after_add, new_leaf, ext_path, ext)


# ---- struct sizes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupLayout:
    """What a group adds to every leaf and GroupContext besides the defaults of the plain
    scenarios: extension and proposal types in the capabilities (``uint16`` each, RFC 9420
    §7.2), the octets of the encoded LeafNode and GroupContext extension lists (their content,
    without the vector's length prefix, §13), and the group_id length. The default is the plain
    benchmark group; :func:`apq_layout` is a combined (APQ-MLS) group's session."""

    cap_extensions: int = 0
    cap_proposals: int = 0
    leaf_extensions: int = 0
    gc_extensions: int = 0
    group_id: int = len(GROUP_ID)


PLAIN = GroupLayout()


class Model:
    """Sizes (as :data:`Parts` breakdowns) of the scenario's messages for one suite."""

    def __init__(self, p: SuiteSizes, sigs: SigSource | None = None, payload: int = 100,
                 layout: GroupLayout = PLAIN) -> None:
        self.p = p
        self.sigs = sigs or nominal(p)
        self.payload = payload
        self.layout = layout

    # -- leaves, key packages
    def credential(self) -> Parts:
        return _p(framing=2) + opaque(IDENTITY_LEN, "framing")  # basic: type + identity<V>

    def capabilities(self) -> Parts:
        # versions (mls10), cipher_suites (the suite), extensions, proposals, credentials (basic, x509)
        ext, prop = 2 * self.layout.cap_extensions, 2 * self.layout.cap_proposals
        return _p(framing=(1 + 2) + (1 + 2) + varint_len(ext) + ext + varint_len(prop) + prop + (1 + 4))

    def leaf_node(self, source: str, sig: int, has_ph: bool = True) -> Parts:
        """``LeafNode`` with source ``key_package`` (lifetime) or ``commit`` (parent_hash)."""
        p = self.p
        c = opaque(p.n_pk, "hpke_key") + opaque(p.sig_pk, "signature_key") + self.credential() + self.capabilities()
        c["framing"] += 1  # leaf_node_source
        if source == "key_package":
            c["framing"] += 16  # Lifetime
        elif source == "commit":
            c += opaque(p.hash_len if has_ph else 0, "secret_or_hash")
        c += opaque(self.layout.leaf_extensions)  # extensions<V>
        return c + opaque(sig, "signature")

    def key_package(self, metric: str) -> Parts:
        p = self.p
        c = _p(framing=4) + opaque(p.n_pk, "hpke_key")  # version, cipher_suite, init_key
        c += self.leaf_node("key_package", self.sigs(metric, "kp_leaf"))
        c["framing"] += 1  # extensions<V>
        return c + opaque(self.sigs(metric, "kp"), "signature")

    # -- tree
    def parent_node(self, has_ph: bool, unmerged: int) -> Parts:
        return (
            opaque(self.p.n_pk, "hpke_key")
            + opaque(self.p.hash_len if has_ph else 0, "secret_or_hash")
            + opaque(4 * unmerged, "framing")
        )

    def ratchet_tree(self, tree: TreeShape, metric: str, new_leaf: int | None = None) -> Parts:
        """``optional<Node> ratchet_tree<V>`` without trailing blanks (§12.4.3.3)."""
        const = getattr(self.sigs, "constant", None)
        if const is not None:
            blanks, hist = tree.histogram(new_leaf)
            kinds: Counter[tuple[object, ...]] = Counter()
            for key, count in hist.items():
                kinds[("leaf", key[1], const) if key[0] == "leaf" else key] += count
            return self._tree_parts(blanks, kinds)
        nodes = tree.nodes
        end = len(nodes)
        while end and nodes[end - 1] is None:
            end -= 1
        kinds = Counter()
        blanks = 0
        for x in range(end):
            k = nodes[x]
            if k is None:
                blanks += 1
            elif k[0] == "leaf":
                i = x // 2
                role = "kp_leaf" if i == new_leaf else "leaf"
                kinds[("leaf", k[1], self.sigs(metric, role, i))] += 1
            else:
                kinds[("parent", bool(k[1]), int(k[2]))] += 1  # type: ignore[misc]
        return self._tree_parts(blanks, kinds)

    def _tree_parts(self, blanks: int, kinds: Counter[tuple[object, ...]]) -> Parts:
        c: Parts = Counter(framing=blanks)
        for key, count in kinds.items():
            if key[0] == "leaf":
                has_ph, sig = key[1], int(key[2])  # type: ignore[call-overload]
                part = self.leaf_node("key_package", sig) if has_ph is None else self.leaf_node("commit", sig, bool(has_ph))
            else:
                part = self.parent_node(bool(key[1]), int(key[2]))  # type: ignore[call-overload]
            part["framing"] += 2  # optional presence + node_type
            for cat, v in part.items():
                c[cat] += v * count
        return opaque(c)

    # -- group context / info / welcome
    def group_context(self) -> Parts:
        h = self.p.hash_len
        c = _p(framing=4) + opaque(self.layout.group_id, "framing") + _p(framing=8)  # version, suite, group_id, epoch
        c += opaque(h, "secret_or_hash") + opaque(h, "secret_or_hash")  # tree hash, confirmed transcript hash
        c += opaque(self.layout.gc_extensions)  # extensions<V>
        return c

    def group_info(self, tree: TreeShape | None, metric: str, new_leaf: int | None = None) -> Parts:
        """GroupInfo with the ``ratchet_tree`` (if ``tree``) and ``external_pub`` extensions."""
        exts: Parts = Counter()
        if tree is not None:
            exts += _p(framing=2) + opaque(self.ratchet_tree(tree, metric, new_leaf))
        exts += _p(framing=2) + opaque(opaque(self.p.n_pk, "hpke_key"))
        c = self.group_context() + opaque(exts)
        c += opaque(self.p.hash_len, "secret_or_hash") + _p(framing=4)  # confirmation_tag, signer
        return c + opaque(self.sigs(metric, "gi"), "signature")

    def welcome(self, gi: Parts, path_secret: bool = False, psks: tuple[Parts, ...] = ()) -> Parts:
        """Welcome for one new member (§12.4.3.1)."""
        p = self.p
        gs = opaque(p.n_h, "secret_or_hash") + _p(framing=1)  # joiner_secret, optional path_secret
        if path_secret:
            gs += opaque(p.n_h, "secret_or_hash")
        ids: Parts = Counter()
        for psk in psks:
            ids += psk
        gs += opaque(ids)  # psks<V>
        sealed = opaque(p.n_enc, "kem_output") + opaque(gs + _p(aead_tag=p.n_t))
        egs = opaque(p.hash_len, "secret_or_hash") + sealed  # KeyPackageRef + HPKECiphertext
        c = _p(framing=2) + opaque(egs) + opaque(gi + _p(aead_tag=p.n_t))
        return c

    # -- framing
    def update_path(self, counts: tuple[int, ...], sig: int) -> Parts:
        p = self.p
        ct = opaque(p.n_enc, "kem_output") + opaque(_p(secret_or_hash=p.n_h, aead_tag=p.n_t))
        nodes: Parts = Counter()
        for k in counts:
            cts: Parts = Counter()
            for cat, v in ct.items():
                cts[cat] += v * k
            nodes += opaque(p.n_pk, "hpke_key") + opaque(cts)
        return self.leaf_node("commit", sig, bool(counts)) + opaque(nodes)

    def commit_body(self, proposals: list[Parts], path: Parts | None) -> Parts:
        props: Parts = Counter()
        for pr in proposals:
            props += _p(framing=1 + 2) + pr  # ProposalOrRef type + proposal_type
        c = opaque(props) + _p(framing=1)
        if path is not None:
            c += path
        return c

    def framed_content(self, body: Parts, member: bool = True) -> Parts:
        c = opaque(self.layout.group_id, "framing") + _p(framing=8)  # group_id, epoch
        c["framing"] += 5 if member else 1  # sender
        c["framing"] += 1 + 1  # authenticated_data<V> (empty), content_type
        return c + body

    def public_message(self, body: Parts, sig: int, commit: bool, member: bool = True) -> Parts:
        h = self.p.hash_len
        c = _p(framing=4) + self.framed_content(body, member) + opaque(sig, "signature")
        if commit:
            c += opaque(h, "secret_or_hash")  # confirmation_tag
        if member:
            c += opaque(h, "secret_or_hash")  # membership_tag
        return c

    def private_message(self, body: Parts, sig: int, commit: bool) -> Parts:
        p = self.p
        content = body + opaque(sig, "signature")
        if commit:
            content += opaque(p.hash_len, "secret_or_hash")
        c = _p(framing=4) + opaque(self.layout.group_id, "framing") + _p(framing=8 + 1 + 1)
        c += opaque(_p(framing=12, aead_tag=p.n_t))  # encrypted_sender_data
        return c + opaque(content + _p(aead_tag=p.n_t))

    # -- the scenario's metrics
    def metrics(self, n: int, shape: str) -> dict[str, Parts | None]:
        """Every size metric's breakdown; None for a message MLS cannot encode at this N
        (a vector over 2^30-1 octets, e.g. a ratchet tree of 100 000 SLH-DSA leaves)."""
        f = shape_facts(n, shape)
        s = self.sigs
        out: dict[str, Parts | None] = {}

        def put(name: str, make: Callable[[], Parts]) -> None:
            try:
                out[name] = make()
            except TooLong:
                out[name] = None

        put("key_package", lambda: _p(framing=4) + self.key_package("key_package"))
        for m, pub in (("add_commit_public", True), ("add_commit_private", False)):
            def add(m: str = m, pub: bool = pub) -> Parts:
                body = self.commit_body([self.key_package(m)], None)
                if pub:
                    return self.public_message(body, s(m, "content"), True)
                return self.private_message(body, s(m, "content"), True)

            put(m, add)
        put("welcome_tree", lambda: _p(framing=4) + self.welcome(
            self.group_info(f.tree_after_add, "welcome_tree", f.new_leaf)))
        put("welcome_notree", lambda: _p(framing=4) + self.welcome(self.group_info(None, "welcome_notree")))
        for m, pub in (("update_commit_public", True), ("update_commit_private", False)):
            def upd(m: str = m, pub: bool = pub) -> Parts:
                body = self.commit_body([], self.update_path(f.update_path, s(m, "path_leaf")))
                if pub:
                    return self.public_message(body, s(m, "content"), True)
                return self.private_message(body, s(m, "content"), True)

            put(m, upd)
        put("group_info", lambda: _p(framing=4) + self.group_info(f.tree, "group_info"))
        put("ratchet_tree", lambda: self.ratchet_tree(f.tree, "ratchet_tree"))
        put("app_message", lambda: self.private_message(opaque(self.payload, "framing"), s("app_message", "content"),
                                                        False))

        def ext() -> Parts:
            ext_body = self.commit_body(
                [opaque(self.p.n_enc, "kem_output")],
                self.update_path(f.external_path, s("external_commit", "path_leaf")),
            )
            return self.public_message(ext_body, s("external_commit", "content"), True, member=False)

        put("external_commit", ext)
        assert set(out) == set(SIZE_METRICS)
        return out


def model_sizes(
    suite: CipherSuite | SuiteSizes, n: int, shape: str, *, sigs: SigSource | None = None, payload: int = 100
) -> dict[str, int | None]:
    """Octets of every size metric (see :data:`~mls_pq.bench.scenarios.SIZE_METRICS`); None
    where MLS cannot encode the message (:class:`TooLong`)."""
    p = suite if isinstance(suite, SuiteSizes) else SuiteSizes.of(suite)
    return {k: total(v) if v is not None else None for k, v in Model(p, sigs, payload).metrics(n, shape).items()}


def model_breakdown(
    suite: CipherSuite | SuiteSizes, n: int, shape: str, *, payload: int = 100
) -> dict[str, dict[str, int] | None]:
    """Per metric, octets by category (:data:`CATEGORIES`): why a message is as large as it is."""
    p = suite if isinstance(suite, SuiteSizes) else SuiteSizes.of(suite)
    return {k: dict(v) if v is not None else None for k, v in Model(p, None, payload).metrics(n, shape).items()}


def sig_range(
    suite: CipherSuite | SuiteSizes, n: int, shape: str, *, payload: int = 100
) -> dict[str, tuple[int | None, int | None]]:
    """(low, high) octets per metric over signature lengths (equal for fixed-length schemes)."""
    p = suite if isinstance(suite, SuiteSizes) else SuiteSizes.of(suite)
    hi = model_sizes(p, n, shape, sigs=nominal(p, "max"), payload=payload)
    lo = hi if p.fixed_sig else model_sizes(p, n, shape, sigs=nominal(p, "min"), payload=payload)
    return {k: (lo[k], hi[k]) for k in lo}


def update_path_ciphertexts(n: int, shape: str) -> int:
    """HPKE ciphertexts in leaf 0's UpdatePath: Σ over its filtered direct path of the
    copath child's resolution size (§7.6)."""
    return sum(shape_facts(n, shape).update_path)


# ---- combined groups (APQ-MLS, draft-ietf-mls-combiner) -------------------------------------------------
#
# A combined group's sessions differ from the plain scenario's group only in what every leaf and
# GroupContext carries (GroupLayout) and in the FULL commit's extra proposals; the trees, paths
# and signatures follow the same simulation. The wire structs (draft-ietf-mls-extensions §4.5,
# §4.6, §4.7, §5; draft-ietf-mls-combiner §5.1, §5.1.1, §6):
#   Extension              uint16 type; opaque data<V>
#   WireFormats            uint16 wire_formats<V>          (supported_/required_wire_formats)
#   AppDataDictionary      ComponentData component_data<V>; ComponentData = uint16 id; opaque data<V>
#   ComponentsList         uint16 component_ids<V>         (app_components, in the leaves)
#   APQInfo                opaque t_gid<V>; opaque pq_gid<V>; bool mode; uint16 t_suite, pq_suite;
#                          uint64 t_epoch, pq_epoch
#   AppDataUpdate          uint16 component_id; uint8 op; opaque update<V>
#   APQInfoUpdate          uint8 type; APQInfo | uint64 epoch
#   PreSharedKeyID         uint8 psktype = application(3); uint16 component_id; opaque psk_id<V>;
#                          opaque psk_nonce<V>   (psk_id and nonce: Nh of the traditional KDF)
#   APQMessagePair MLS     uint16 version; uint16 wire_format = 0x0007; uint16 inner wire_format;
#                          MLSMessage t_message; MLSMessage pq_message


def _vec(n: int) -> int:
    """Octets of a ``<V>`` vector holding ``n`` octets."""
    return varint_len(n) + n


def extension_len(data: int) -> int:
    return 2 + _vec(data)


def apq_info_len(t_group_id: int, pq_group_id: int) -> int:
    return _vec(t_group_id) + _vec(pq_group_id) + 1 + 2 + 2 + 8 + 8


def app_data_dictionary_len(entries: list[int]) -> int:
    """An AppDataDictionary whose entries' data have these lengths."""
    return _vec(sum(2 + _vec(d) for d in entries))


def apq_layout(t_group_id: int, pq_group_id: int, *, components: int = 2) -> GroupLayout:
    """The GroupLayout of either session of a combined group: capabilities list the
    app_data_dictionary, supported_wire_formats and required_wire_formats extensions and the
    AppDataUpdate proposal; every leaf carries supported_wire_formats [apq_message_pair] and an
    app_data_dictionary with app_components (``components`` ids: 0x0001 and 0x0006); the
    GroupContext carries required_wire_formats [apq_message_pair] and the app_data_dictionary
    holding app_components (the same ids required) and APQInfo (``APQGroup.create``)."""
    wire_formats = extension_len(_vec(2))
    app_components = _vec(2 * components)
    leaf = wire_formats + extension_len(app_data_dictionary_len([app_components]))
    gc = wire_formats + extension_len(app_data_dictionary_len([app_components,
                                                               apq_info_len(t_group_id, pq_group_id)]))
    return GroupLayout(cap_extensions=3, cap_proposals=1, leaf_extensions=leaf, gc_extensions=gc,
                       group_id=max(t_group_id, pq_group_id))


def _apq_epoch_update() -> Parts:
    """AppDataUpdate(0x0006, update, APQInfoUpdate new_t_epoch / new_pq_epoch)."""
    return _p(framing=2 + 1) + opaque(1 + 8)


def _apq_psk(t: SuiteSizes) -> Parts:
    """The PreSharedKeyID of the apq_psk (§5.2): application(3), component 0x0006."""
    return _p(framing=1 + 2) + opaque(t.n_h, "secret_or_hash") + opaque(t.n_h, "secret_or_hash")


#: the combined-group size metrics (see :mod:`mls_pq.bench.combiner`)
APQ_METRICS = ("full_commit", "full_commit.t", "full_commit.pq", "partial_commit", "welcome_pair",
               "welcome_pair.t", "welcome_pair.pq")


def apq_model_parts(
    t: CipherSuite | SuiteSizes, pq: CipherSuite | SuiteSizes, n: int, shape: str, *, t_group_id: int,
    pq_group_id: int, sigs_t: SigSource | None = None, sigs_pq: SigSource | None = None,
) -> dict[str, Parts]:
    """Breakdowns of the combined group's messages at ``n`` members and ``shape``
    (:data:`APQ_METRICS`): the FULL commit as an APQMessagePair MLSMessage (PQ and traditional
    Commit with UpdatePath as PublicMessages, both with the new_t_epoch and new_pq_epoch
    AppDataUpdates, the traditional one with the apq_psk PreSharedKey proposal), the PARTIAL
    commit (traditional Commit with UpdatePath), the Welcome pair of a FULL commit adding one
    member (no UpdatePath; each Welcome with the ratchet_tree extension, the traditional
    GroupSecrets naming the apq_psk)."""
    tp = t if isinstance(t, SuiteSizes) else SuiteSizes.of(t)
    pp = pq if isinstance(pq, SuiteSizes) else SuiteSizes.of(pq)
    layout = apq_layout(t_group_id, pq_group_id)
    if t_group_id != pq_group_id:  # each session's own group_id
        lt, lp = replace(layout, group_id=t_group_id), replace(layout, group_id=pq_group_id)
    else:
        lt = lp = layout
    mt, mp = Model(tp, sigs_t, layout=lt), Model(pp, sigs_pq, layout=lp)
    f = shape_facts(n, shape)
    out: dict[str, Parts] = {}

    def commit(m: Model, metric: str, proposals: list[Parts]) -> Parts:
        s = m.sigs
        body = m.commit_body(proposals, m.update_path(f.update_path, s(metric, "path_leaf")))
        return m.public_message(body, s(metric, "content"), True)

    upd = _apq_epoch_update()
    out["full_commit.t"] = commit(mt, "full_commit.t", [_apq_psk(tp), upd, upd])
    out["full_commit.pq"] = commit(mp, "full_commit.pq", [upd, upd])
    out["full_commit"] = _p(framing=6) + out["full_commit.t"] + out["full_commit.pq"]
    out["partial_commit"] = commit(mt, "partial_commit", [])
    out["welcome_pair.t"] = _p(framing=4) + mt.welcome(
        mt.group_info(f.tree_after_add, "welcome_pair.t", f.new_leaf), psks=(_apq_psk(tp),))
    out["welcome_pair.pq"] = _p(framing=4) + mp.welcome(mp.group_info(f.tree_after_add, "welcome_pair.pq", f.new_leaf))
    out["welcome_pair"] = _p(framing=6) + out["welcome_pair.t"] + out["welcome_pair.pq"]
    assert set(out) == set(APQ_METRICS)
    return out


def apq_model_sizes(
    t: CipherSuite | SuiteSizes, pq: CipherSuite | SuiteSizes, n: int, shape: str, *, t_group_id: int,
    pq_group_id: int, sigs_t: SigSource | None = None, sigs_pq: SigSource | None = None,
) -> dict[str, int]:
    """Octets of every combined-group metric (:func:`apq_model_parts`)."""
    parts = apq_model_parts(t, pq, n, shape, t_group_id=t_group_id, pq_group_id=pq_group_id, sigs_t=sigs_t,
                            sigs_pq=sigs_pq)
    return {k: total(v) for k, v in parts.items()}


def apq_sig_range(
    t: CipherSuite | SuiteSizes, pq: CipherSuite | SuiteSizes, n: int, shape: str, *, t_group_id: int,
    pq_group_id: int,
) -> dict[str, tuple[int, int]]:
    """(low, high) octets per combined-group metric over signature lengths."""
    tp = t if isinstance(t, SuiteSizes) else SuiteSizes.of(t)
    pp = pq if isinstance(pq, SuiteSizes) else SuiteSizes.of(pq)
    kw = {"t_group_id": t_group_id, "pq_group_id": pq_group_id}
    hi = apq_model_sizes(tp, pp, n, shape, sigs_t=nominal(tp, "max"), sigs_pq=nominal(pp, "max"), **kw)
    lo = apq_model_sizes(tp, pp, n, shape, sigs_t=nominal(tp, "min"), sigs_pq=nominal(pp, "min"), **kw)
    return {k: (lo[k], hi[k]) for k in hi}


SigFn = Callable[[str, str, "int | None"], int]

__all__ = [
    "APQ_METRICS",
    "CATEGORIES",
    "MAX_VECTOR",
    "PLAIN",
    "GroupLayout",
    "Model",
    "SigSource",
    "SuiteSizes",
    "TooLong",
    "TreeShape",
    "apq_layout",
    "apq_model_parts",
    "apq_model_sizes",
    "apq_sig_range",
    "model_breakdown",
    "model_sizes",
    "nominal",
    "shape_facts",
    "sig_range",
    "update_path_ciphertexts",
    "varint_len",
]
