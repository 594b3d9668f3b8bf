"""Verifiers for the foundation vector kinds: tree-math, crypto-basics, secret-tree,
key-schedule, psk_secret and deserialization (mlswg test-vectors.md)."""

from __future__ import annotations

from typing import Any

from ..codec import Reader, encode_varint
from ..errors import MLSError, UnsupportedCipherSuite
from ..group_context import GroupContext
from ..key_schedule import advance, mls_exporter
from ..psk import PreSharedKeyID, psk_secret
from ..secret_tree import APPLICATION, HANDSHAKE, SecretTree, sender_data_key_nonce
from ..suites import CipherSuite, get_suite
from ..tree import math as tm
from .kinds import Mismatch, SkipCase, kind


def h(x: str) -> bytes:
    return bytes.fromhex(x)


def expect(name: str, got: object, want: object) -> None:
    if got != want:
        g = got.hex() if isinstance(got, bytes) else got
        w = want.hex() if isinstance(want, bytes) else want
        raise Mismatch(name, f"got {g}, want {w}")


def suite_of(case: dict[str, Any], profile: str | None = None) -> CipherSuite:
    try:
        return get_suite(int(case["cipher_suite"]), profile)
    except UnsupportedCipherSuite as e:
        raise SkipCase(str(e)) from None


@kind("tree-math")
def verify_tree_math(c: dict[str, Any]) -> None:
    n = c["n_leaves"]
    expect("n_nodes", tm.node_width(n), c["n_nodes"])
    expect("root", tm.root(n), c["root"])

    def opt(f: Any, *a: int) -> int | None:
        try:
            return int(f(*a))
        except MLSError:
            return None

    for i in range(c["n_nodes"]):
        expect(f"left[{i}]", opt(tm.left, i), c["left"][i])
        expect(f"right[{i}]", opt(tm.right, i), c["right"][i])
        expect(f"parent[{i}]", opt(tm.parent, i, n), c["parent"][i])
        expect(f"sibling[{i}]", opt(tm.sibling, i, n), c["sibling"][i])


@kind("crypto-basics")
def verify_crypto_basics(c: dict[str, Any]) -> None:
    s = suite_of(c)
    v = c["ref_hash"]
    expect("ref_hash.out", s.ref_hash(v["label"], h(v["value"])), h(v["out"]))
    v = c["expand_with_label"]
    expect(
        "expand_with_label.out",
        s.expand_with_label(h(v["secret"]), v["label"], h(v["context"]), v["length"]),
        h(v["out"]),
    )
    v = c["derive_secret"]
    expect("derive_secret.out", s.derive_secret(h(v["secret"]), v["label"]), h(v["out"]))
    v = c["derive_tree_secret"]
    expect(
        "derive_tree_secret.out",
        s.derive_tree_secret(h(v["secret"]), v["label"], v["generation"], v["length"]),
        h(v["out"]),
    )
    v = c["sign_with_label"]
    priv, pub, content = h(v["priv"]), h(v["pub"]), h(v["content"])
    expect("sign_with_label.pub", s.signature.public_key(priv), pub)
    if not s.verify_with_label(pub, v["label"], content, h(v["signature"])):
        raise Mismatch("sign_with_label.signature", "vector signature does not verify")
    if not s.verify_with_label(pub, v["label"], content, s.sign_with_label(priv, v["label"], content)):
        raise Mismatch("sign_with_label", "own signature does not verify")
    if s.verify_with_label(pub, v["label"] + "x", content, h(v["signature"])):
        raise Mismatch("sign_with_label", "signature verifies under a different label")
    v = c["encrypt_with_label"]
    priv, pub, ctx, pt = h(v["priv"]), h(v["pub"]), h(v["context"]), h(v["plaintext"])
    expect("encrypt_with_label.pub", s.kem.public_key(priv), pub)
    expect(
        "encrypt_with_label.plaintext",
        s.decrypt_with_label(priv, v["label"], ctx, h(v["kem_output"]), h(v["ciphertext"])),
        pt,
    )
    kem_out, ct = s.encrypt_with_label(pub, v["label"], ctx, pt)
    expect("encrypt_with_label (own)", s.decrypt_with_label(priv, v["label"], ctx, kem_out, ct), pt)


@kind("secret-tree")
def verify_secret_tree(c: dict[str, Any]) -> None:
    s = suite_of(c)
    sd = c["sender_data"]
    key, nonce = sender_data_key_nonce(s, h(sd["sender_data_secret"]), h(sd["ciphertext"]))
    expect("sender_data.key", key, h(sd["key"]))
    expect("sender_data.nonce", nonce, h(sd["nonce"]))
    tree = SecretTree(s, h(c["encryption_secret"]), len(c["leaves"]), max_skip=1 << 32)
    for i, gens in enumerate(c["leaves"]):
        for g in gens:
            gen = g["generation"]
            for k in (HANDSHAKE, APPLICATION):
                use = tree.key_for(i, k, gen)
                expect(f"leaves[{i}][gen {gen}].{k}_key", use.key, h(g[f"{k}_key"]))
                expect(f"leaves[{i}][gen {gen}].{k}_nonce", use.nonce, h(g[f"{k}_nonce"]))
                tree.commit_use(use)


@kind("key-schedule")
def verify_key_schedule(c: dict[str, Any]) -> None:
    s = suite_of(c)
    init = h(c["initial_init_secret"])
    for i, e in enumerate(c["epochs"]):
        gc = GroupContext(
            cipher_suite=c["cipher_suite"],
            group_id=h(c["group_id"]),
            epoch=i,
            tree_hash=h(e["tree_hash"]),
            confirmed_transcript_hash=h(e["confirmed_transcript_hash"]),
        )
        gc_bytes = gc.to_bytes()
        expect(f"epochs[{i}].group_context", gc_bytes, h(e["group_context"]))
        es = advance(s, init, h(e["commit_secret"]), h(e["psk_secret"]), gc_bytes)
        for f in (
            "joiner_secret", "welcome_secret", "init_secret", "sender_data_secret", "encryption_secret",
            "exporter_secret", "epoch_authenticator", "external_secret", "confirmation_key",
            "membership_key", "resumption_psk",
        ):
            expect(f"epochs[{i}].{f}", getattr(es, f), h(e[f]))
        expect(f"epochs[{i}].external_pub", es.external_key_pair()[1], h(e["external_pub"]))
        x = e["exporter"]
        expect(
            f"epochs[{i}].exporter.secret",
            mls_exporter(s, es.exporter_secret, x["label"], h(x["context"]), x["length"]),
            h(x["secret"]),
        )
        init = es.init_secret


@kind("psk-secret", "psk_secret")
def verify_psk_secret(c: dict[str, Any]) -> None:
    s = suite_of(c)
    psks = [(PreSharedKeyID.external(h(p["psk_id"]), h(p["psk_nonce"])), h(p["psk"])) for p in c["psks"]]
    expect("psk_secret", psk_secret(s, psks), h(c["psk_secret"]))


@kind("deserialization")
def verify_deserialization(c: dict[str, Any]) -> None:
    header = h(c["vlbytes_header"])
    r = Reader(header)
    expect("length", r.varint(), c["length"])
    r.done()
    expect("vlbytes_header (re-encoded)", encode_varint(c["length"]), header)
