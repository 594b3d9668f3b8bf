"""GroupInfo and Welcome (RFC 9420 §12.4.3, §12.4.3.1, §12.4.3.3): building them as a
committer and joining a group from a Welcome, with the full tree validation a joiner owes.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import mls_pq.group.validation as v

from ..codec import Reader, Writer
from ..credentials import CredentialValidator
from ..errors import DecodeError, MLSError, StateError, ValidationError
from ..extensions import EXTERNAL_PUB, RATCHET_TREE, Extension, check_unique_types
from ..group_context import GroupContext
from ..key_package_bundle import KeyPackageBundle
from ..key_schedule import EpochSecrets, from_joiner, welcome_key_nonce, welcome_secret_from_joiner
from ..limits import DEFAULT_LIMITS, Limits
from ..messages.key_package import KeyPackage
from ..messages.update_path import HPKECiphertext
from ..messages.welcome import EncryptedGroupSecrets, GroupInfo, GroupSecrets, Welcome
from ..psk import PSK_RESUMPTION, USAGE_APPLICATION, USAGE_BRANCH, USAGE_REINIT, PreSharedKeyID, psk_secret
from ..suites import CipherSuite, get_suite
from ..suites.cipher_suite import BARE_EXTERNAL_PUB
from ..transcript import confirmation_tag, interim_transcript_hash
from ..tree import math as tm
from ..tree.leaf_validation import validate_ratchet_tree
from ..tree.ratchet_tree import RatchetTree
from ..treekem import CreatedPath, PrivateTree
from .state import GroupOptions, GroupState, forget_used_secrets, new_secret_tree, push_resumption_psk

if TYPE_CHECKING:
    from ..crypto.hpke import PreparedInfo

# ---- the external_pub extension (§12.4.3.2) --------------------------------------------------


def external_pub_extension(public_key: bytes) -> Extension:
    """``struct { HPKEPublicKey external_pub; } ExternalPub``."""
    return Extension(EXTERNAL_PUB, Writer().opaque(public_key).getvalue())


def parse_external_pub(ext: Extension, suite: CipherSuite | None = None) -> bytes:
    """``ExternalPub.external_pub`` (§12.4.3.2). For a suite with the
    :data:`~mls_pq.suites.cipher_suite.BARE_EXTERNAL_PUB` quirk (set by its code-point profile,
    :data:`mls_pq.suites.registry.PROFILE_QUIRKS`), extension data exactly ``suite.kem.n_pk``
    octets long is the bare key (unambiguous: the RFC form is longer by its length prefix).
    Every other suite is strict; mls-pq always writes the prefix."""
    data = ext.extension_data
    if suite is not None and BARE_EXTERNAL_PUB in suite.quirks and len(data) == suite.kem.n_pk:
        return bytes(data)
    r = Reader(data)
    try:
        key = r.opaque()
        r.done()
    except (DecodeError, IndexError, ValueError) as e:
        raise DecodeError(f"malformed external_pub: {e}") from None
    return key


# ---- GroupInfo (§12.4.3) --------------------------------------------------------------------


def build_group_info(
    state: GroupState,
    *,
    ratchet_tree: bool | None = None,
    external_pub: bool | None = None,
    extra_extensions: Sequence[Extension] = (),
    signature_priv: bytes | None = None,
) -> GroupInfo:
    """A signed GroupInfo for the state's epoch. The ``ratchet_tree`` extension (an O(N)
    encoding) is added only when asked for (default: the state's options)."""
    opts = state.options
    exts: list[Extension] = []
    if opts.ratchet_tree_extension if ratchet_tree is None else ratchet_tree:
        exts.append(state.tree.to_extension())
    if opts.external_pub if external_pub is None else external_pub:
        exts.append(external_pub_extension(state.secrets.external_key_pair()[1]))
    exts.extend(extra_extensions)
    check_unique_types(exts, "the GroupInfo extensions")  # §13.5 (an extra one repeating ours)
    gi = GroupInfo(state.context, tuple(exts), state.confirmation_tag, state.leaf_index)
    return gi.sign(state.suite, signature_priv or state.private.signature_priv)


def tree_for_group_info(
    suite: CipherSuite,
    gi: GroupInfo,
    ratchet_tree: bytes | RatchetTree | None,
    *,
    limits: Limits = DEFAULT_LIMITS,
) -> RatchetTree:
    """The tree from the ``ratchet_tree`` extension, or the one given out of band (§12.4.3.3),
    truncated (§7.7) and within ``limits.max_group_size`` (checked while decoding, before
    the tree is hashed or validated: the GroupInfo signature is checked only afterwards)."""
    if isinstance(ratchet_tree, RatchetTree):
        limits.check_tree(ratchet_tree)
        return ratchet_tree.copy()
    if ratchet_tree is not None:
        return RatchetTree.from_bytes(suite, ratchet_tree, limits=limits)
    ext = gi.extension(RATCHET_TREE)
    if ext is None:
        raise ValidationError("no ratchet_tree extension and no tree given out of band", "12.4.3.3")
    return RatchetTree.from_bytes(suite, ext.extension_data, limits=limits)


def verify_group_info(
    suite: CipherSuite,
    gi: GroupInfo,
    tree: RatchetTree,
    *,
    now: int | None = None,
    validate_tree: bool = True,
    max_lifetime: int | None = None,
) -> None:
    """Signature by the ``signer`` leaf, tree hash, and (optionally) the full tree
    validation of §12.4.3.1."""
    gc = gi.group_context
    if gc.cipher_suite != suite.id:
        raise ValidationError("GroupInfo cipher suite differs", "12.4.3.1")
    check_unique_types(gi.extensions, "the GroupInfo extensions")  # §13.5
    check_unique_types(gc.extensions, "the GroupContext extensions")
    if not 0 <= gi.signer < tree.n_leaves or tree.leaf(gi.signer) is None:
        raise ValidationError(f"GroupInfo signer {gi.signer} is not a member", "12.4.3.1")
    signer = tree.leaf(gi.signer)
    assert signer is not None
    if not gi.verify(suite, signer.signature_key):
        raise ValidationError("GroupInfo signature does not verify", "12.4.3.1")
    if not hmac.compare_digest(tree.tree_hash(), gc.tree_hash):
        raise ValidationError("the ratchet tree does not match the GroupInfo tree_hash", "12.4.3.1")
    if validate_tree:
        # every leaf valid (§7.3), X.509 credentials carrying the leaf's signature_key (§5.3)
        validate_ratchet_tree(tree, gc.group_id, gc.extensions, now=now, max_lifetime=max_lifetime)


# ---- the encrypted parts of a Welcome (§12.4.3.1) ------------------------------------------------

WELCOME_LABEL = "Welcome"


def encrypt_group_info(suite: CipherSuite, welcome_secret: bytes, group_info: GroupInfo) -> bytes:
    """encrypted_group_info = AEAD.Seal(welcome_key, welcome_nonce, "", GroupInfo)."""
    key, nonce = welcome_key_nonce(suite, welcome_secret)
    return suite.aead.seal(key, nonce, b"", group_info.to_bytes())


def decrypt_group_info(suite: CipherSuite, welcome_secret: bytes, encrypted_group_info: bytes) -> GroupInfo:
    """Open ``encrypted_group_info``; raises DecryptError or DecodeError."""
    key, nonce = welcome_key_nonce(suite, welcome_secret)
    return GroupInfo.from_bytes(suite.aead.open(key, nonce, b"", encrypted_group_info))


def seal_group_secrets(
    suite: CipherSuite,
    init_key: bytes,
    encrypted_group_info: bytes,
    group_secrets: GroupSecrets,
    prepared: PreparedInfo | None = None,
) -> HPKECiphertext:
    """EncryptWithLabel(init_key, "Welcome", encrypted_group_info, group_secrets).
    ``prepared`` (:func:`prepare_welcome_context`) hashes the context once per Welcome."""
    if prepared is not None:
        kem_output, ct = suite.encrypt_with_prepared(init_key, prepared, group_secrets.to_bytes())
    else:
        kem_output, ct = suite.encrypt_with_label(init_key, WELCOME_LABEL, encrypted_group_info, group_secrets.to_bytes())
    return HPKECiphertext(kem_output, ct)


def prepare_welcome_context(suite: CipherSuite, encrypted_group_info: bytes) -> PreparedInfo:
    """The "Welcome" EncryptContext over ``encrypted_group_info``, hashed once for all
    recipients of one Welcome (RFC 9420 §12.4.3.1)."""
    return suite.prepare_encrypt_context(WELCOME_LABEL, encrypted_group_info)


def open_group_secrets(
    suite: CipherSuite, init_key_priv: bytes, encrypted_group_info: bytes, sealed: HPKECiphertext
) -> GroupSecrets:
    """DecryptWithLabel(init_key_priv, "Welcome", encrypted_group_info, kem_output, ciphertext)."""
    pt = suite.decrypt_with_label(
        init_key_priv, WELCOME_LABEL, encrypted_group_info, sealed.kem_output, sealed.ciphertext
    )
    return GroupSecrets.from_bytes(pt)


# ---- building a Welcome (§12.4.3.1) ------------------------------------------------------------


def build_welcome(
    suite: CipherSuite,
    group_info: GroupInfo,
    secrets: EpochSecrets,
    new_members: Sequence[tuple[int, KeyPackage]],
    psks: Sequence[PreSharedKeyID],
    created: CreatedPath | None,
) -> Welcome:
    """One Welcome for every new member: GroupInfo under welcome_key/nonce, GroupSecrets
    (joiner_secret, the path secret of the lowest common ancestor, the PSK ids) to each
    KeyPackage's init_key."""
    encrypted_gi = encrypt_group_info(suite, secrets.welcome_secret, group_info)
    prepared = prepare_welcome_context(suite, encrypted_gi)  # hashed once, not per recipient
    entries = []
    for leaf, kp in new_members:
        ps = created.path_secret_for(leaf) if created is not None else None
        gs = GroupSecrets(secrets.joiner_secret, ps, tuple(psks))
        sealed = seal_group_secrets(suite, kp.init_key, encrypted_gi, gs, prepared)
        entries.append(EncryptedGroupSecrets(kp.ref(suite), sealed))
    return Welcome(suite.id, tuple(entries), encrypted_gi)


# ---- joining (§12.4.3.1) ------------------------------------------------------------------------


@dataclass
class JoinContext:
    """What a joiner knows besides the Welcome: PSKs and, for reinit/branch, the old group."""

    psk_lookup: Callable[[PreSharedKeyID], bytes | None]
    #: resumption PSK of (group_id, epoch) in another group; used for reinit/branch
    old_group: GroupState | None = None
    #: "same client" for the reinit/branch membership checks (§11.2, §11.3); default: same credential
    same_client: Callable[..., bool] | None = None
    now: int | None = None
    options: GroupOptions = field(default_factory=GroupOptions)
    #: the application's maximum total LeafNode lifetime (§7.2), or None
    max_lifetime: int | None = None
    validate_tree: bool = True
    #: the application's Authentication Service (§5.3.1); None accepts every credential
    validator: CredentialValidator | None = None
    #: resource limits (tree size) for the tree we join with
    limits: Limits = DEFAULT_LIMITS


def select_bundle(
    welcome: Welcome, bundles: Sequence[KeyPackageBundle], suite: CipherSuite
) -> tuple[KeyPackageBundle, EncryptedGroupSecrets]:
    """The first of our KeyPackages (of the Welcome's suite) the Welcome has an entry for
    (§12.4.3.1 first step); ValidationError if there is none."""
    for b in bundles:
        if b.key_package.cipher_suite != welcome.cipher_suite:
            continue
        entry = welcome.find(b.key_package.ref(suite))
        if entry is not None:
            return b, entry
    raise ValidationError("the Welcome has no entry for any of our KeyPackages", "12.4.3.1")


def join_from_welcome(
    welcome: Welcome,
    bundles: Sequence[KeyPackageBundle],
    ctx: JoinContext,
    *,
    ratchet_tree: bytes | RatchetTree | None = None,
    suite: CipherSuite | None = None,
) -> GroupState:
    """Process a Welcome (§12.4.3.1) and return the joiner's state."""
    if suite is None:
        suite = get_suite(welcome.cipher_suite)
    elif suite.id != welcome.cipher_suite:
        raise ValidationError("the given suite is not the Welcome's", "12.4.3.1")
    bundle, entry = select_bundle(welcome, bundles, suite)
    kp = bundle.key_package
    gs = open_group_secrets(suite, bundle.init_priv, welcome.encrypted_group_info, entry.encrypted_group_secrets)

    # PSKs (§12.4.3.1, §11.2, §11.3)
    special = [p for p in gs.psks if p.psktype == PSK_RESUMPTION and p.usage in (USAGE_REINIT, USAGE_BRANCH)]
    if len(special) > 1:
        raise ValidationError("more than one reinit/branch resumption PSK", "12.4.3.1")
    pairs = []
    for pid in gs.psks:
        psk = _welcome_psk(pid, ctx)
        if psk is None:
            raise ValidationError("a PSK named by the Welcome is not available", "12.4.3.1")
        pairs.append((pid, psk))
    psk_sec = psk_secret(suite, pairs) if pairs else None
    welcome_secret = welcome_secret_from_joiner(suite, gs.joiner_secret, psk_sec)
    gi = decrypt_group_info(suite, welcome_secret, welcome.encrypted_group_info)
    gc = gi.group_context
    if gc.cipher_suite != kp.cipher_suite:
        raise ValidationError("GroupInfo cipher suite differs from the KeyPackage's", "12.4.3.1")
    if ctx.old_group is not None and ctx.old_group.group_id == gc.group_id and not special:
        raise ValidationError("we are already in a group with this group_id", "12.4.3.1")

    tree = tree_for_group_info(suite, gi, ratchet_tree, limits=ctx.limits)
    verify_group_info(suite, gi, tree, now=ctx.now, validate_tree=ctx.validate_tree, max_lifetime=ctx.max_lifetime)
    my_leaf = tree.find_leaf(kp.leaf_node)
    if my_leaf is None:
        raise ValidationError("our KeyPackage's leaf is not in the tree", "12.4.3.1")
    private = PrivateTree(my_leaf, bundle.encryption_priv, bundle.signature_priv)
    if gs.path_secret is not None:
        if gi.signer == my_leaf:
            raise ValidationError("path secret sent by ourselves", "12.4.3.1")
        private.implant(tree, tm.common_ancestor(2 * my_leaf, 2 * gi.signer), gs.path_secret)

    secrets = from_joiner(suite, gs.joiner_secret, psk_sec, gc.to_bytes())
    tag = confirmation_tag(suite, secrets.confirmation_key, gc.confirmed_transcript_hash)
    if not hmac.compare_digest(tag, gi.confirmation_tag):
        raise ValidationError("GroupInfo confirmation_tag does not match", "12.4.3.1")
    if special:
        _check_resumption(special[0], gc, tree, ctx)
    # §13.5: we must really support the group's extensions (our GREASE values do not count)
    v.check_leaf_supports_group(kp.leaf_node, gc.extensions, "our leaf", own=True)
    # §5.3.1: the credentials of the GroupInfo we join with, once it is authenticated
    v.authenticate_joined_tree(suite, ctx.validator, gc.group_id, tree, gi.signer, gc.extensions, my_leaf)
    opts = ctx.options
    return GroupState(
        suite=suite,
        context=gc,
        tree=tree,
        secrets=forget_used_secrets(secrets),
        secret_tree=new_secret_tree(suite, secrets, tree.n_leaves, opts),
        interim_transcript_hash=interim_transcript_hash(suite, gc.confirmed_transcript_hash, gi.confirmation_tag),
        confirmation_tag=gi.confirmation_tag,
        private=private,
        resumption_psks=push_resumption_psk((), gc.epoch, secrets.resumption_psk, opts.resumption_epochs),
        options=opts,
    )


def _welcome_psk(pid: PreSharedKeyID, ctx: JoinContext) -> bytes | None:
    old = ctx.old_group
    if pid.psktype == PSK_RESUMPTION and old is not None and pid.psk_group_id == old.group_id:
        got = old.resumption_psk(pid.psk_epoch)
        if got is not None:
            return got
    return ctx.psk_lookup(pid)


def _same(ctx: JoinContext, a: object, b: object) -> bool:
    if ctx.same_client is not None:
        return bool(ctx.same_client(a, b))
    return getattr(a, "credential", None) == getattr(b, "credential", None)


def _all_matched(ctx: JoinContext, old: Sequence[object], new: Sequence[object], *, every_old: bool) -> bool:
    """Every old leaf has the same client among the new ones (``every_old``), or every new
    leaf among the old ones. With the default rule (equal credentials) a set lookup: linear,
    not O(N^2), in the group size; an application's ``same_client(old, new)`` predicate
    cannot be indexed and is tried pairwise."""
    if ctx.same_client is None:
        wanted, among = (old, new) if every_old else (new, old)
        have = {getattr(x, "credential", None) for x in among}
        return all(getattr(x, "credential", None) in have for x in wanted)
    if every_old:
        return all(any(_same(ctx, o, n) for n in new) for o in old)
    return all(any(_same(ctx, o, n) for o in old) for n in new)


def _check_resumption(pid: PreSharedKeyID, gc: GroupContext, tree: RatchetTree, ctx: JoinContext) -> None:
    """§12.4.3.1 last step: a reinit/branch Welcome starts epoch 1 of a matching group."""
    if gc.epoch != 1:
        raise ValidationError("a reinit/branch Welcome must be for epoch 1", "12.4.3.1")
    old = ctx.old_group
    if old is None or old.group_id != pid.psk_group_id:
        raise StateError("a reinit/branch Welcome needs the old group's state")
    new_leaves = [leaf for _, leaf in tree.leaves()]
    old_leaves = [leaf for _, leaf in old.tree.leaves()]
    if pid.usage == USAGE_REINIT:
        ri = old.reinit
        if ri is None or old.epoch != pid.psk_epoch:
            raise ValidationError("the old group's last commit did not contain a ReInit", "11.2")
        if (gc.group_id, gc.version, gc.cipher_suite, tuple(gc.extensions)) != (
            ri.group_id,
            ri.version,
            ri.cipher_suite,
            tuple(ri.extensions),
        ):
            raise ValidationError("the new group does not match the ReInit proposal", "11.2")
        if not _all_matched(ctx, old_leaves, new_leaves, every_old=True):
            raise ValidationError("a member of the old group is missing from the reinitialised group", "11.2")
    else:
        if gc.version != old.context.version or gc.cipher_suite != old.context.cipher_suite:
            raise ValidationError("a branch keeps the version and cipher suite", "11.3")
        if not _all_matched(ctx, old_leaves, new_leaves, every_old=False):
            raise ValidationError("a member of the branch is not in the old group", "11.3")


def is_application_psk(pid: PreSharedKeyID) -> bool:
    return pid.psktype != PSK_RESUMPTION or pid.usage == USAGE_APPLICATION


__all__ = [
    "JoinContext",
    "KeyPackageBundle",
    "MLSError",
    "build_group_info",
    "build_welcome",
    "decrypt_group_info",
    "encrypt_group_info",
    "external_pub_extension",
    "join_from_welcome",
    "open_group_secrets",
    "parse_external_pub",
    "prepare_welcome_context",
    "seal_group_secrets",
    "select_bundle",
    "tree_for_group_info",
    "verify_group_info",
]
