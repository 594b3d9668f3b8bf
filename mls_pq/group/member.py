"""The public group API (RFC 9420 §11, §12): :class:`Group`.

Bytes at the edges: every message in or out is an ``MLSMessage`` encoding. Each call that
changes the group builds the next :class:`~mls_pq.group.state.GroupState` and swaps it in
only after every check passed; an exception (always an :class:`~mls_pq.errors.MLSError`)
leaves the group exactly as it was.

Typical use::

    alice = Group.create(suite, b"group", credential, signature_priv)
    kp_bytes, bob_bundle = make_key_package(suite, bob_credential, bob_signature_priv)
    out = alice.commit(add=[kp_bytes])
    alice.merge_pending_commit()
    bob = Group.join(out.welcome, [bob_bundle])
    bob.process(alice.encrypt(b"hi")).data == b"hi"

Commits are staged (RFC 9420 §12.4.2, see :mod:`mls_pq.group.results`): ``process`` of a
commit verifies it and returns a :class:`~mls_pq.group.results.StagedCommit`; the group
changes only when the application calls its ``merge()``.

Persistence: pass ``storage=`` (a :class:`~mls_pq.storage.Storage`) to :meth:`Group.create`,
:meth:`Group.join` or :meth:`Group.join_external`, or call :meth:`Group.save`; restore with
:meth:`Group.load`. Every later change is written through before it takes effect (see
:mod:`mls_pq.group.persistence`).

Configuration: every policy the protocol leaves to the application (clock, Authentication
Service, maximum lifetime, limits, components, and the persisted
:class:`~mls_pq.group.state.GroupOptions`) is one frozen
:class:`~mls_pq.group.config.GroupConfig`, the ``config=`` of every entry point and
:attr:`Group.config` of a member (its table of fields is in :mod:`mls_pq.group.config`).

Authentication (RFC 9420 §5.3.1): ``config.credential_validator`` (a
:data:`~mls_pq.credentials.CredentialValidator`) is the application's Authentication
Service. It is called with a :class:`~mls_pq.credentials.CredentialEvent` whenever a new
credential enters our view of the group — a KeyPackage we add, an Add we receive, an
Update or commit path with a new credential (with the one it replaces), every member and
the signer of a GroupInfo we join with, the entries of an added or changed
``external_senders`` extension — and a ``False`` answer (or an exception) rejects the
operation with :class:`~mls_pq.credentials.CredentialRejected` (§5.3.1), leaving the group
unchanged. It is the application's, never serialised: pass it again to :meth:`Group.load`.
The default (None) accepts every credential; production applications MUST supply one.
Independently of it, an X.509 credential's end-entity certificate must carry the leaf's
signature key (§5.3, :func:`~mls_pq.credentials.check_credential_key`).

Time: ``config.clock`` (seconds since the Unix epoch, default the system clock) drives the
LeafNode lifetime checks of §7.3 and dates the creator's own leaf; pass a fixed clock for
tests or ``None`` to disable lifetime checks (only for replaying recorded vectors).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import mls_pq.group.validation as v
import mls_pq.log as log  # noqa: PLR0402  (the module, not the package: no edge to mls_pq/__init__)

from ..codec import Reader, Writer
from ..components import ComponentRegistry
from ..credentials import CredentialValidator
from ..errors import (
    ConcurrentModificationError,
    CorruptStateError,
    DecodeError,
    MLSError,
    PastEpochError,
    SecretConsumedError,
    StateError,
    ValidationError,
)
from ..exporter_tree import ExporterTree
from ..extensions import Extension, check_unique_types
from ..framing import (
    authenticate,
    open_private,
    public_message,
    seal_private,
    unprotect_public,
)
from ..grease import grease_extension, grease_leaf
from ..group_context import GroupContext
from ..key_package_bundle import parse_key_package
from ..key_schedule import from_joiner
from ..leaf_template import DEFAULT_LIFETIME, as_suite, default_capabilities, make_leaf_template
from ..argcheck import require_bytes, require_int, require_ints, require_str_or_bytes
from ..limits import DEFAULT_LIMITS, Limits
from ..secret_tree import APPLICATION
from ..messages.app_data import AppDataUpdate
from ..messages.commit import Commit
from ..messages.credential import Credential
from ..messages.framing_structs import (
    AuthenticatedContent,
    ContentType,
    FramedContent,
    MLSMessage,
    PrivateMessage,
    PublicMessage,
    Sender,
    SenderType,
    WireFormat,
)
from ..messages.key_package import KeyPackage
from ..messages.leaf_node import Capabilities, LeafNode, LeafNodeSource, Lifetime
from ..messages.proposals import (
    Add,
    GroupContextExtensions,
    PreSharedKey,
    Proposal,
    ReInit,
    Remove,
    Update,
)
from ..messages.version import PROTOCOL_VERSION_MLS10
from ..messages.welcome import GroupInfo, Welcome
from ..psk import PSK_APPLICATION, PSK_EXTERNAL, PSK_RESUMPTION, USAGE_BRANCH, USAGE_REINIT, PreSharedKeyID
from ..suites import CipherSuite, get_suite
from ..transcript import confirmation_tag, interim_transcript_hash
from ..tree.leaf_validation import LeafContext, validate_leaf_node
from ..tree.ratchet_tree import RatchetTree, system_clock
from ..treekem import PrivateTree
from .commit import CommitEffects, MemberInfo, create_commit, padding, process_commit, random_psk_nonce
from .config import DEFAULT_CONFIG, Clock, GroupConfig
from .external import create_external_commit, external_sender_keys
from .persistence import (
    block_size,
    claim_group_id,
    decode_pending,
    encode_pending,
    epoch_blob,
    only_tree_changed,
    reservation_changes,
    row_changes_between,
    stored_bundles,
    tree_changes,
    tree_rows,
    with_reserved_row,
    with_rows,
)
from .results import ApplicationMessage, ProcessedMessage, ProposalMessage, StagedCommit, StagedState
from .state import (
    CachedProposal,
    GroupOptions,
    GroupState,
    OwnUpdate,
    forget_used_secrets,
    new_secret_tree,
    open_digest,
    push_resumption_psk,
    seal_digest,
)
from .welcome import (
    JoinContext,
    KeyPackageBundle,
    build_group_info,
    build_welcome,
    join_from_welcome,
    select_bundle,
)

if TYPE_CHECKING:
    from ..storage.base import Storage


# ---- results ----------------------------------------------------------------------------------


class CommitOutput:
    """What :meth:`Group.commit` returns (RFC 9420 §12.4): the MLSMessage bytes of the
    ``commit`` (to send to the group), of the ``welcome`` (None unless members were added,
    §12.4.3.1), the ``effects`` of the commit once merged, and :attr:`group_info`.

    ``make_group_info`` builds the signed GroupInfo of the new epoch (§12.4.3); it is called
    at most once, on first access of :attr:`group_info` (a commit nobody publishes a
    GroupInfo for costs no extra signature). When the bytes exist already (a Welcome
    needed them), pass ``lambda: data``."""

    __slots__ = ("_group_info", "_make_group_info", "commit", "effects", "welcome")

    def __init__(
        self,
        commit: bytes,
        welcome: bytes | None,
        make_group_info: Callable[[], bytes],
        effects: CommitEffects,
    ) -> None:
        self.commit = commit
        self.welcome = welcome
        self.effects = effects
        self._group_info: bytes | None = None
        self._make_group_info: Callable[[], bytes] | None = make_group_info

    @property
    def group_info(self) -> bytes:
        """The signed GroupInfo of the new epoch as MLSMessage bytes (§12.4.3), built once."""
        if self._group_info is None:
            make = self._make_group_info
            if make is None:  # pragma: no cover - set together with _group_info
                raise StateError("no GroupInfo")
            self._group_info = make()
            self._make_group_info = None
        return self._group_info

    def __repr__(self) -> str:
        return f"<CommitOutput epoch={self.effects.epoch} welcome={self.welcome is not None}>"


@dataclass
class _Pending:
    """Our pending commit (§12.4): the state it creates, its MLSMessage bytes, its effects."""

    next: GroupState
    message: bytes
    effects: CommitEffects

    def __repr__(self) -> str:
        return f"<_Pending epoch={self.next.epoch}>"


def _decode_message(data: bytes, limits: Limits = DEFAULT_LIMITS, name: str = "data") -> MLSMessage:
    require_bytes(data, name)  # a TypeError naming the parameter, not one from the codec
    limits.check_message_size(data)
    return MLSMessage.from_bytes(data)


# ---- the group ---------------------------------------------------------------------------------


class Group:
    """One member's view of an MLS group.

    Receiving (RFC 9420 §12.4.2): :meth:`process` returns an
    :class:`~mls_pq.group.results.ApplicationMessage` or a
    :class:`~mls_pq.group.results.ProposalMessage` (already in effect), or a
    :class:`~mls_pq.group.results.StagedCommit`: the group is unchanged until its
    ``merge()`` (or ``discard()``).

    Our own commits — the one flow: :meth:`commit` → send ``out.commit`` to the delivery
    service → once it accepted the commit, :meth:`merge_pending_commit` (or
    :meth:`discard_pending_commit` if it rejected it). A delivery service that echoes our
    commit back may instead be answered with ``process(out.commit)``: that returns a
    ``StagedCommit`` with ``own=True`` whose ``merge()`` *is* :meth:`merge_pending_commit`
    (and whose ``discard()`` keeps the commit pending). Either call merges; after one,
    the other raises :class:`~mls_pq.errors.StateError` ("already merged")."""

    #: epoch_authenticators of staged epochs whose Exporter Tree is in use (see
    #: :meth:`StagedCommit.safe_export_secret`); cleared when a staged commit is merged
    _open_staged: frozenset[bytes] = frozenset()
    #: (state, the same state without its exporter root) after :meth:`safe_export_secret`
    #: dropped the root: a commit staged against the former may still merge
    _root_dropped: tuple[GroupState, GroupState] | None = None

    def __init__(
        self,
        state: GroupState,
        *,
        config: GroupConfig | None = None,
        psk_store: MutableMapping[bytes, bytes] | None = None,
        resumption_psks: MutableMapping[tuple[bytes, int], bytes] | None = None,
        storage: Storage | None = None,
    ) -> None:
        """A member in ``state``. ``config`` (default :data:`~mls_pq.group.config.DEFAULT_CONFIG`):
        its ``options`` are ignored, the state's own (persisted) options win."""
        self._state = state
        self._pending: _Pending | None = None
        #: the storage version our state was read or written at (compare-and-swap, see
        #: :mod:`mls_pq.storage.base`); None: not stored yet
        self._version: int | None = None
        #: our sending reservation in storage (:mod:`.persistence`, "Sending in blocks"):
        #: (epoch, first generation not reserved, stored row value); None: none
        self._reserved: tuple[int, int, bytes] | None = None
        #: where every change is written through (None: in memory only); see :meth:`save`
        self.storage: Storage | None = storage
        #: external PSKs by psk_id (§8.4); the application fills it
        self.psk_store: MutableMapping[bytes, bytes] = psk_store if psk_store is not None else {}
        #: resumption PSKs of other groups by (group_id, epoch), e.g. for branch/reinit
        self.resumption_psks: MutableMapping[tuple[bytes, int], bytes] = (
            resumption_psks if resumption_psks is not None else {}
        )
        self._config = _with_options(_config_arg(config), state.options)
        #: application PSKs (draft-ietf-mls-extensions §4.5) by (component_id, psk_id)
        self.application_psks: MutableMapping[tuple[int, bytes], bytes] = {}
        #: Exporter Trees of :meth:`safe_export_secret` by epoch_authenticator
        #: (draft-ietf-mls-extensions §4.4): the current and the pending epoch's
        self._exporter_trees: dict[bytes, ExporterTree] = {}

    @property
    def config(self) -> GroupConfig:
        """The :class:`~mls_pq.group.config.GroupConfig` in force: clock, Authentication
        Service, limits, components... Set a new one to change them, e.g.
        ``g.config = dataclasses.replace(g.config, components=registry)``. Its ``options``
        are the group's persisted ones and cannot be changed here (StateError)."""
        return self._config

    @config.setter
    def config(self, config: GroupConfig) -> None:
        if not isinstance(config, GroupConfig):
            raise TypeError(f"Group.config must be a GroupConfig, not {type(config).__name__}")
        if config.options != self._state.options:
            raise StateError(
                "a group's GroupOptions are fixed when it is created or joined (persisted with its state): "
                "keep config.options = group.config.options"
            )
        self._config = config

    # read-only views of the config fields the engine reads (set them through ``config``)
    @property
    def clock(self) -> Clock | None:
        """``config.clock`` (read-only; set ``config``)."""
        return self._config.clock

    @property
    def identity_of(self) -> v.IdentityOf:
        """``config.identity_of`` (read-only; set ``config``)."""
        return self._config.identity_of

    @property
    def max_lifetime(self) -> int | None:
        """``config.max_lifetime`` (read-only; set ``config``)."""
        return self._config.max_lifetime

    @property
    def credential_validator(self) -> CredentialValidator | None:
        """``config.credential_validator`` (read-only; set ``config``)."""
        return self._config.credential_validator

    @property
    def limits(self) -> Limits:
        """``config.limits`` (read-only; set ``config``)."""
        return self._config.limits

    @property
    def components(self) -> ComponentRegistry:
        """``config.components`` (read-only; set ``config``)."""
        return self._config.components

    def __repr__(self) -> str:
        return f"<Group {self._state!r}{' pending-commit' if self._pending else ''}>"

    # ---- creation ---------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        suite: CipherSuite | int,
        group_id: bytes,
        credential: Credential,
        signature_priv: bytes,
        *,
        extensions: Sequence[Extension] = (),
        capabilities: Capabilities | None = None,
        leaf_extensions: Sequence[Extension] = (),
        config: GroupConfig | None = None,
        psk_store: MutableMapping[bytes, bytes] | None = None,
        resumption_psks: MutableMapping[tuple[bytes, int], bytes] | None = None,
        storage: Storage | None = None,
        grease: bool = False,
    ) -> Group:
        """A one-member group at epoch 0 (RFC 9420 §11), with ``config`` (its ``options``
        are saved with the group). With ``storage`` the group is saved (epoch 0) and every
        later change is written through. ``grease``: add random GREASE values to our leaf's
        capabilities and extensions (§13.5)."""
        cs = as_suite(suite)
        require_bytes(group_id, "group_id")
        require_bytes(signature_priv, "signature_priv")
        if not isinstance(credential, Credential):
            raise TypeError(f"credential must be a Credential, not {type(credential).__name__}")
        cfg = _config_arg(config)
        opts = cfg.options
        enc_priv, enc_pub = cs.generate_key_pair()
        t = (cfg.clock or system_clock)()  # the injected clock dates our own leaf too
        caps = capabilities or default_capabilities(cs, credential)
        leaf_exts = tuple(leaf_extensions)
        if grease:
            caps, leaf_exts = grease_leaf(caps, leaf_exts)
        leaf = LeafNode(
            encryption_key=enc_pub,
            signature_key=cs.signature.public_key(signature_priv),
            credential=credential,
            capabilities=caps,
            leaf_node_source=int(LeafNodeSource.KEY_PACKAGE),
            lifetime=Lifetime(max(0, t - DEFAULT_LIFETIME[0]), t + DEFAULT_LIFETIME[1]),
            extensions=leaf_exts,
        ).sign(cs, signature_priv)
        check_unique_types(extensions, "the GroupContext extensions")  # §13.5
        validate_leaf_node(cs, leaf, LeafContext.key_package(extensions))  # with §5.3's key binding
        v.check_leaf_supports_group(leaf, extensions, "the creator", own=True)
        # §5.3.1: an external_senders extension added to the group (here: at its creation)
        v.check_external_senders(cs, cfg.credential_validator, group_id, (), extensions)
        tree = RatchetTree(cs, [leaf])
        ctx = GroupContext(cs.id, group_id, 0, tree.tree_hash(), b"", tuple(extensions))
        secrets = from_joiner(cs, os.urandom(cs.n_h), None, ctx.to_bytes())  # epoch_secret: fresh randomness
        tag = confirmation_tag(cs, secrets.confirmation_key, b"")
        state = GroupState(
            suite=cs,
            context=ctx,
            tree=tree,
            secrets=forget_used_secrets(secrets),
            secret_tree=new_secret_tree(cs, secrets, 1, opts),
            interim_transcript_hash=interim_transcript_hash(cs, b"", tag),
            confirmation_tag=tag,
            private=PrivateTree(0, enc_priv, signature_priv),
            resumption_psks=push_resumption_psk((), 0, secrets.resumption_psk, opts.resumption_epochs),
            options=opts,
        )
        g = cls(state, config=cfg, psk_store=psk_store, resumption_psks=resumption_psks, storage=storage)
        g._store_epoch(state)
        return g

    @classmethod
    def join(
        cls,
        welcome: bytes,
        bundles: Sequence[KeyPackageBundle] | KeyPackageBundle | None = None,
        *,
        ratchet_tree: bytes | None = None,
        psk_store: MutableMapping[bytes, bytes] | None = None,
        resumption_psks: MutableMapping[tuple[bytes, int], bytes] | None = None,
        old_group: Group | None = None,
        config: GroupConfig | None = None,
        suite: CipherSuite | None = None,
        same_client: Callable[[LeafNode, LeafNode], bool] | None = None,
        storage: Storage | None = None,
        application_psks: Mapping[tuple[int, bytes], bytes] | None = None,
    ) -> Group:
        """Join from a Welcome (§12.4.3.1) with ``config`` (its ``options`` are saved with the
        group; its ``limits`` bound the Welcome, its ``credential_validator`` sees every
        member, its ``check_tree_lifetimes`` applies the RECOMMENDED lifetime check of §7.3
        to every leaf of the received tree). ``application_psks``: application PSKs by
        (component_id, psk_id) (draft-ietf-mls-extensions §4.5) the Welcome may need.
        ``ratchet_tree`` is the tree out of band when the
        Welcome has no ``ratchet_tree`` extension; ``old_group`` is the group being
        reinitialised or branched from (§11.2, §11.3).

        With ``storage``: ``bundles`` may be omitted (the KeyPackage private bundles stored
        with :func:`~mls_pq.client.make_key_package` are looked up by KeyPackageRef); the
        group_id must not be one of an active stored group (§12.4.3.1); the joined state is
        saved and the used KeyPackage's private key deleted in ONE transaction."""
        cfg = _config_arg(config)
        msg = _decode_message(welcome, cfg.limits, "welcome")
        if not isinstance(msg.body, Welcome):
            raise DecodeError("the MLSMessage is not a Welcome")
        w = msg.body
        if isinstance(bundles, KeyPackageBundle):
            bundles = [bundles]
        if bundles is None:
            if storage is None:
                raise StateError("pass the KeyPackage bundles or a storage holding them")
            bundles = stored_bundles(storage, w)
        psk_store = psk_store if psk_store is not None else {}
        resumption_psks = resumption_psks if resumption_psks is not None else {}
        ctx = JoinContext(
            psk_lookup=_foreign_lookup(psk_store, resumption_psks, storage, application_psks),
            old_group=old_group.state if old_group is not None else None,
            same_client=same_client,
            now=cfg.now() if cfg.check_tree_lifetimes else None,
            options=cfg.options,
            max_lifetime=cfg.max_lifetime,
            validator=cfg.credential_validator,
            limits=cfg.limits,
        )
        state = join_from_welcome(w, bundles, ctx, ratchet_tree=ratchet_tree, suite=suite)
        g = cls(state, config=cfg, psk_store=psk_store, resumption_psks=resumption_psks, storage=storage)
        if storage is not None:
            used, _ = select_bundle(w, bundles, state.suite)
            ref = used.key_package.ref(state.suite)
            claim_group_id(storage, state.group_id, state.suite, replace_active=False, section="12.4.3.1")
            g._store_epoch(state, consumed=ref if storage.get_key_package(ref) is not None else None)
        return g

    @classmethod
    def join_external(
        cls,
        group_info: bytes,
        credential: Credential,
        signature_priv: bytes,
        *,
        ratchet_tree: bytes | None = None,
        remove_leaf: int | None = None,
        psks: Sequence[PreSharedKeyID] = (),
        capabilities: Capabilities | None = None,
        leaf_extensions: Sequence[Extension] = (),
        authenticated_data: bytes = b"",
        psk_store: MutableMapping[bytes, bytes] | None = None,
        config: GroupConfig | None = None,
        suite: CipherSuite | None = None,
        storage: Storage | None = None,
        grease: bool = False,
        app_data_updates: Sequence[AppDataUpdate] = (),
        application_psks: Mapping[tuple[int, bytes], bytes] | None = None,
    ) -> tuple[Group, bytes]:
        """Join by an external Commit (§12.4.3.2) with ``config`` (as for :meth:`join`).
        Returns the group (already in the new
        epoch) and the commit's MLSMessage bytes to send to the group. With ``storage`` the
        group_id must not be one of an active stored group (§12.4.3), unless ``remove_leaf``
        makes this a resync replacing our stale state; the new state is saved. ``grease``:
        random GREASE values in our leaf's capabilities and extensions (§13.5).
        ``app_data_updates``: AppDataUpdate proposals to include, applied with
        ``config.components`` (draft-ietf-mls-extensions §4.7); ``application_psks``: the
        application PSKs ``psks`` may name, by (component_id, psk_id) (§4.5)."""
        cfg = _config_arg(config)
        msg = _decode_message(group_info, cfg.limits, "group_info")
        if not isinstance(msg.body, GroupInfo):
            raise DecodeError("the MLSMessage is not a GroupInfo")
        gi = msg.body
        cs = suite or get_suite(gi.group_context.cipher_suite)
        psk_store = psk_store if psk_store is not None else {}
        caps = capabilities or default_capabilities(cs, credential)
        leaf_exts = tuple(leaf_extensions)
        if grease:
            caps, leaf_exts = grease_leaf(caps, leaf_exts)
        template = make_leaf_template(
            cs,
            credential,
            cs.signature.public_key(signature_priv),
            capabilities=caps,
            extensions=leaf_exts,
        )
        res = create_external_commit(
            cs,
            gi,
            template,
            signature_priv,
            ratchet_tree=ratchet_tree,
            remove_leaf=remove_leaf,
            psks=psks,
            psk_lookup=_foreign_lookup(psk_store, {}, storage, application_psks),
            authenticated_data=authenticated_data,
            options=cfg.options,
            now=cfg.now() if cfg.check_tree_lifetimes else None,
            max_lifetime=cfg.max_lifetime,
            validator=cfg.credential_validator,
            limits=cfg.limits,
            app_data_updates=app_data_updates,
            components=cfg.components,
        )
        g = cls(res.state, config=cfg, psk_store=psk_store, storage=storage)
        if storage is not None:
            claim_group_id(storage, g.group_id, cs, replace_active=remove_leaf is not None, section="12.4.3")
            g._store_epoch(res.state)
        return g, res.message.to_bytes()

    # ---- state access -----------------------------------------------------------------------
    @property
    def state(self) -> GroupState:
        """The current epoch's immutable :class:`~mls_pq.group.state.GroupState` (advanced use)."""
        return self._state

    @property
    def suite(self) -> CipherSuite:
        """The group's cipher suite (RFC 9420 §17.1); fixed for the group's lifetime."""
        return self._state.suite

    @property
    def group_id(self) -> bytes:
        """The group_id of the GroupContext (RFC 9420 §8.1)."""
        return self._state.group_id

    @property
    def epoch(self) -> int:
        """The current epoch (RFC 9420 §8.1); a staged commit does not change it until merged."""
        return self._state.epoch

    @property
    def leaf_index(self) -> int:
        """Our own leaf index in the ratchet tree (RFC 9420 §7.8)."""
        return self._state.leaf_index

    @property
    def group_context(self) -> GroupContext:
        """The current epoch's GroupContext (RFC 9420 §8.1)."""
        return self._state.context

    @property
    def epoch_authenticator(self) -> bytes:
        """The epoch authenticator (§8.7)."""
        return self._state.secrets.epoch_authenticator

    @property
    def active(self) -> bool:
        """False once we were removed or the group was reinitialised (RFC 9420 §12.4.2, §11.2)."""
        return self._state.active

    @property
    def has_pending_commit(self) -> bool:
        """True between :meth:`commit` and :meth:`merge_pending_commit` / :meth:`discard_pending_commit`."""
        return self._pending is not None

    @property
    def pending_proposals(self) -> tuple[CachedProposal, ...]:
        """The proposals received (or sent) in this epoch and not yet committed (RFC 9420 §12.4)."""
        return self._state.proposals

    def members(self) -> list[MemberInfo]:
        """The current members, by leaf index (RFC 9420 §7.8). A method, not a property: it
        builds a new list from the tree (O(N)); the group's stored facts (``epoch``,
        ``group_id``, ``suite``…) are properties."""
        return [MemberInfo.of(i, leaf) for i, leaf in self._state.tree.leaves()]

    def ratchet_tree(self) -> bytes:
        """The ``ratchet_tree`` encoding of the current tree (§12.4.3.3), for out-of-band use."""
        return self._state.tree.to_bytes()

    def export_secret(self, label: str | bytes, context: bytes, length: int) -> bytes:
        """MLS-Exporter(label, context, length) (§8.5)."""
        require_str_or_bytes(label, "label")
        require_bytes(context, "context")
        require_int(length, "length", high=0xFFFF, section="8.5")  # KDFLabel.length is a uint16
        return self._state.secrets.export(label, context, length)

    def safe_export_secret(self, component_id: int) -> bytes:
        """``SafeExportSecret(component_id)`` of the current epoch (draft-ietf-mls-extensions
        §4.4): a leaf of the epoch's Exporter Tree, consumed on use — a second call for the same
        component in the same epoch raises :class:`~mls_pq.errors.SecretConsumedError`. The
        tree's root (``application_export_secret``) is dropped from the state on first use.
        Not persisted: after :meth:`load` the current epoch's safe exports are unavailable
        (fail-closed) until the next epoch."""
        secret, dropped = self._safe_export(self._state, component_id)
        if dropped is not None:
            self._root_dropped = (self._state, dropped)
            self._state = dropped
        return secret

    def pending_safe_export_secret(self, component_id: int) -> bytes:
        """``SafeExportSecret(component_id)`` of the epoch our pending commit creates (§4.4 of
        draft-ietf-mls-extensions), before it is merged — e.g. the PQ half of an APQ FULL
        commit, whose exporter the traditional commit needs. Consumed as with
        :meth:`safe_export_secret`, and still consumed after :meth:`merge_pending_commit`."""
        p = self._pending
        if p is None:
            raise StateError("no pending commit")
        secret, dropped = self._safe_export(p.next, component_id)
        if dropped is not None:
            self._pending = replace(p, next=dropped)
        return secret

    def _safe_export(self, st: GroupState, component_id: int) -> tuple[bytes, GroupState | None]:
        """Export from ``st``'s Exporter Tree (kept per epoch instance, keyed by its
        epoch_authenticator, for the current and the pending epoch only); on first use also
        returns ``st`` without the tree's root."""
        key = st.secrets.epoch_authenticator
        live = {self._state.secrets.epoch_authenticator, key, *self._open_staged}
        if self._pending is not None:
            live.add(self._pending.next.secrets.epoch_authenticator)
        trees = {k: t for k, t in self._exporter_trees.items() if k in live}
        cached = trees.get(key)
        dropped: GroupState | None = None
        if cached is None:
            root = st.secrets.application_export_secret
            if not root:
                raise SecretConsumedError(
                    f"SafeExportSecret is unavailable in epoch {st.epoch} (state loaded from storage)"
                    " (draft-ietf-mls-extensions §4.4)"
                )
            secret, tree = ExporterTree(st.suite, root).export(component_id)  # raises before any change
            dropped = replace(st, secrets=replace(st.secrets, application_export_secret=b""))
        else:
            secret, tree = cached.export(component_id)
        trees[key] = tree
        self._exporter_trees = trees
        return secret, dropped

    def group_info(
        self,
        *,
        ratchet_tree: bool | None = None,
        external_pub: bool | None = None,
        extensions: Sequence[Extension] = (),
        grease: bool = False,
    ) -> bytes:
        """A signed GroupInfo for the current epoch, as MLSMessage bytes (§12.4.3), with the
        extra GroupInfo ``extensions`` and, with ``grease``, a random GREASE extension
        (§13.5). Not for an inactive group: after a ReInit "the client MUST NOT use the group
        to send messages anymore" (§12.4.2, §11.2), and a removed member's view is stale."""
        self._check_can_send()
        extra = (*extensions, grease_extension(besides=extensions)) if grease else tuple(extensions)
        gi = build_group_info(self._state, ratchet_tree=ratchet_tree, external_pub=external_pub, extra_extensions=extra)
        return MLSMessage(gi).to_bytes()

    def _now(self) -> int | None:
        return self._config.now()

    # ---- PSKs -------------------------------------------------------------------------------
    def _psk_lookup_foreign(self, pid: PreSharedKeyID) -> bytes | None:
        return _foreign_lookup(self.psk_store, self.resumption_psks, self.storage)(pid)

    def _psk_lookup(self, pid: PreSharedKeyID) -> bytes | None:
        if pid.psktype == PSK_APPLICATION:
            return self.application_psks.get((pid.component_id, pid.psk_id))
        if pid.psktype == PSK_RESUMPTION and pid.psk_group_id == self._state.group_id:
            got = self._state.resumption_psk(pid.psk_epoch)
            if got is not None:
                return got
        return self._psk_lookup_foreign(pid)

    # ---- sending proposals (by reference) -----------------------------------------------------
    def _check_can_send(self) -> None:
        if not self._state.active:
            raise StateError("the group is inactive (we were removed or it was reinitialised)")

    def _frame(
        self, body: bytes | Proposal, wire_format: WireFormat, authenticated_data: bytes
    ) -> tuple[MLSMessage, AuthenticatedContent, GroupState]:
        st = self._state
        suite = st.suite
        content = FramedContent(st.group_id, st.epoch, Sender.member(st.leaf_index), authenticated_data, body)
        ac = authenticate(suite, wire_format, content, st.private.signature_priv, st.context)
        if wire_format == WireFormat.PUBLIC_MESSAGE:
            return MLSMessage(public_message(suite, ac, st.context, st.secrets.membership_key)), ac, st
        sealed, use = seal_private(suite, ac, st.secret_tree, st.secrets.sender_data_secret, padding(st, ac))
        return MLSMessage(sealed), ac, st.with_secret_tree(st.secret_tree.applied(use))  # O(log N), no copy

    def propose(
        self,
        proposal: Proposal,
        *,
        authenticated_data: bytes = b"",
        wire_format: int | None = None,
        _own: OwnUpdate | None = None,
    ) -> bytes:
        """Send ``proposal`` by reference; returns its MLSMessage bytes and caches it (§12.1)."""
        self._check_can_send()
        st = self._state
        me = Sender.member(st.leaf_index)
        self.limits.check_pending_proposals(len(st.proposals))
        v.check_individual(st.suite, st.context, st.tree, proposal, me, now=self._now(), max_lifetime=self.max_lifetime)
        v.check_received_leaf(st.tree, _summary(st), proposal, me)
        v.authenticate_proposal(st.suite, self.credential_validator, st.context, st.tree, proposal, me, ours=True)
        wf = WireFormat(wire_format if wire_format is not None else st.options.handshake_wire_format)
        msg, ac, new = self._frame(proposal, wf, authenticated_data)
        ref = st.suite.make_proposal_ref(ac.encoded)
        new = new.with_proposal(CachedProposal(ref, proposal, me, _own))
        self._store_state(new)
        self._state = new
        return msg.to_bytes()

    def propose_add(
        self, key_package: bytes | KeyPackage, *, authenticated_data: bytes = b"", wire_format: int | None = None
    ) -> bytes:
        """Propose adding the KeyPackage's owner (§12.1.1); see :meth:`propose`."""
        return self.propose(
            Proposal(Add(parse_key_package(key_package))),
            authenticated_data=authenticated_data,
            wire_format=wire_format,
        )

    def propose_remove(
        self, leaf_index: int, *, authenticated_data: bytes = b"", wire_format: int | None = None
    ) -> bytes:
        """Propose removing the member at ``leaf_index`` (§12.1.3); see :meth:`propose`."""
        return self.propose(
            Proposal(Remove(leaf_index)), authenticated_data=authenticated_data, wire_format=wire_format
        )

    def propose_update(
        self,
        *,
        signature_priv: bytes | None = None,
        credential: Credential | None = None,
        capabilities: Capabilities | None = None,
        leaf_extensions: Sequence[Extension] | None = None,
        authenticated_data: bytes = b"",
        wire_format: int | None = None,
    ) -> bytes:
        """Propose a fresh leaf (new encryption key; optionally new signature key/credential)."""
        st = self._state
        old = st.own_leaf
        sig_priv = signature_priv or st.private.signature_priv
        enc_priv, enc_pub = st.suite.generate_key_pair()
        leaf = LeafNode(
            encryption_key=enc_pub,
            signature_key=st.suite.signature.public_key(sig_priv) if signature_priv else old.signature_key,
            credential=credential or old.credential,
            capabilities=capabilities or old.capabilities,
            leaf_node_source=int(LeafNodeSource.UPDATE),
            extensions=tuple(leaf_extensions) if leaf_extensions is not None else old.extensions,
        ).sign(st.suite, sig_priv, st.group_id, st.leaf_index)
        return self.propose(
            Proposal(Update(leaf)),
            authenticated_data=authenticated_data,
            wire_format=wire_format,
            _own=OwnUpdate(enc_priv, sig_priv),
        )

    def external_psk_id(self, psk_id: bytes) -> PreSharedKeyID:
        """The PreSharedKeyID of the external PSK ``psk_id`` with a fresh nonce (RFC 9420 §8.4)."""
        return PreSharedKeyID.external(psk_id, random_psk_nonce(self.suite))

    def resumption_psk_id(self, epoch: int | None = None, group_id: bytes | None = None) -> PreSharedKeyID:
        """A PreSharedKeyID for a resumption PSK (usage application) of this group (§8.6)."""
        from ..psk import USAGE_APPLICATION

        return PreSharedKeyID.resumption(
            USAGE_APPLICATION,
            group_id if group_id is not None else self.group_id,
            self.epoch if epoch is None else epoch,
            random_psk_nonce(self.suite),
        )

    def propose_psk(
        self, psk: PreSharedKeyID | bytes, *, authenticated_data: bytes = b"", wire_format: int | None = None
    ) -> bytes:
        """Propose a PSK: a PreSharedKeyID, or an external psk_id (a nonce is drawn)."""
        pid = psk if isinstance(psk, PreSharedKeyID) else self.external_psk_id(psk)
        if self._psk_lookup(pid) is None:
            raise ValidationError("we do not have this PSK", "12.1.4")
        return self.propose(Proposal(PreSharedKey(pid)), authenticated_data=authenticated_data, wire_format=wire_format)

    def propose_reinit(
        self,
        group_id: bytes,
        cipher_suite: int,
        extensions: Sequence[Extension] = (),
        version: int = PROTOCOL_VERSION_MLS10,
        *,
        authenticated_data: bytes = b"",
        wire_format: int | None = None,
    ) -> bytes:
        """Propose reinitialising the group with new parameters (§12.1.5); see :meth:`reinit`."""
        proposal = Proposal(ReInit(group_id, version, cipher_suite, tuple(extensions)))
        return self.propose(proposal, authenticated_data=authenticated_data, wire_format=wire_format)

    def propose_group_context_extensions(
        self, extensions: Sequence[Extension], *, authenticated_data: bytes = b"", wire_format: int | None = None
    ) -> bytes:
        """Propose new GroupContext extensions (§12.1.7); see :meth:`propose`."""
        return self.propose(
            Proposal(GroupContextExtensions(tuple(extensions))),
            authenticated_data=authenticated_data,
            wire_format=wire_format,
        )

    # ---- committing ----------------------------------------------------------------------------
    def _select_pending(self, exclude_conflicts_with: Sequence[Proposal]) -> list[bytes]:
        """The cached proposals a commit should cover (§12.4 SHOULD include all valid ones):
        our own Updates are left out (the path replaces them), Removes win over Updates of
        the same leaf, later Updates over earlier ones, duplicates are dropped — including a
        second Add of the same client, an Add of a client that stays a member, and a second
        PreSharedKey with the same PreSharedKeyID (each would make the list invalid, §12.2)."""
        st = self._state
        me = st.leaf_index
        removed_by_value = {p.body.removed for p in exclude_conflicts_with if isinstance(p.body, Remove)}
        removed = set(removed_by_value)
        for c in st.proposals:
            if isinstance(c.proposal.body, Remove):
                removed.add(c.proposal.body.removed)
        chosen: list[CachedProposal] = []
        last_update: dict[int, CachedProposal] = {}
        seen_remove: set[int] = set()
        has_gce = any(isinstance(p.body, GroupContextExtensions) for p in exclude_conflicts_with)
        has_reinit = False
        now = self._now()
        added = {self.identity_of(p.body.key_package.leaf_node) for p in exclude_conflicts_with if isinstance(p.body, Add)}
        psk_ids = {p.body.psk.to_bytes() for p in exclude_conflicts_with if isinstance(p.body, PreSharedKey)}
        for c in st.proposals:
            body = c.proposal.body
            if isinstance(body, Update):
                if c.sender.index == me or c.sender.index in removed:
                    continue
                last_update[c.sender.index] = c
                continue
            if isinstance(body, Remove):
                if body.removed == me or body.removed in seen_remove or st.tree.leaf(body.removed) is None:
                    continue
                if body.removed in removed_by_value:  # a set: O(P + V), not O(P x V)
                    continue
                seen_remove.add(body.removed)
            elif isinstance(body, GroupContextExtensions):
                if has_gce:
                    continue
                has_gce = True
            elif isinstance(body, ReInit):
                has_reinit = True
            elif isinstance(body, Add):
                leaf = body.key_package.leaf_node
                ident = self.identity_of(leaf)
                member = st.tree.leaf_with_signature_key(leaf.signature_key)
                if ident in added or (member is not None and member not in removed):
                    continue
                if now is not None and leaf.lifetime is not None and not leaf.lifetime.contains(now):
                    continue  # expired since it was proposed (§7.3): no longer valid to commit
                added.add(ident)
            elif isinstance(body, PreSharedKey):
                pid = body.psk.to_bytes()
                if pid in psk_ids:
                    continue
                psk_ids.add(pid)
            chosen.append(c)
        chosen.extend(last_update.values())
        if has_reinit and (len(chosen) > 1 or exclude_conflicts_with):
            # §12.2: a ReInit must be alone; prefer the other proposals (SHOULD)
            chosen = [c for c in chosen if not isinstance(c.proposal.body, ReInit)]
        order = {id(c): i for i, c in enumerate(st.proposals)}
        chosen.sort(key=lambda c: order[id(c)])
        return [c.ref for c in chosen]

    def commit(
        self,
        *,
        add: Iterable[bytes | KeyPackage] = (),
        remove: Iterable[int] = (),
        psks: Iterable[PreSharedKeyID | bytes] = (),
        group_context_extensions: Sequence[Extension] | None = None,
        reinit: ReInit | None = None,
        proposals: Iterable[Proposal] = (),
        include_pending: bool = True,
        references: Iterable[bytes] | None = None,
        path: bool | None = None,
        authenticated_data: bytes = b"",
        wire_format: int | None = None,
        ratchet_tree_extension: bool | None = None,
        leaf_template: LeafNode | None = None,
        signature_priv: bytes | None = None,
        group_info_extensions: Sequence[Extension] = (),
        grease: bool = False,
    ) -> CommitOutput:
        """Create a Commit (§12.4.1). By-value proposals come from ``add``/``remove``/``psks``/
        ``group_context_extensions``/``reinit``/``proposals``; cached proposals are covered by
        reference (all valid ones if ``include_pending``, or exactly ``references``). The path
        is included when required or when ``path`` is True. The commit stays pending until
        :meth:`merge_pending_commit` (or :meth:`discard_pending_commit`).
        ``group_info_extensions`` go into the new epoch's GroupInfo (Welcome and
        ``group_info``), with a random GREASE extension if ``grease`` (§13.5)."""
        remove = require_ints(remove, "remove")
        add = list(add)
        for i, kp in enumerate(add):
            if not isinstance(kp, (bytes, KeyPackage)):
                raise TypeError(f"add[{i}] must be KeyPackage bytes or a KeyPackage, not {type(kp).__name__}")
        require_bytes(authenticated_data, "authenticated_data")
        self._check_can_send()
        if self._pending is not None:
            raise StateError("a commit is already pending: merge or discard it first")
        st = self._state
        by_value: list[Proposal] = []
        if group_context_extensions is not None:
            by_value.append(Proposal(GroupContextExtensions(tuple(group_context_extensions))))
        by_value.extend(Proposal(Remove(i)) for i in remove)
        by_value.extend(Proposal(Add(parse_key_package(kp))) for kp in add)
        for p in psks:
            pid = p if isinstance(p, PreSharedKeyID) else self.external_psk_id(p)
            by_value.append(Proposal(PreSharedKey(pid)))
        if reinit is not None:
            by_value.append(Proposal(reinit))
        by_value.extend(proposals)
        if references is not None:
            refs = list(references)
        elif include_pending:
            refs = self._select_pending(by_value)
        else:
            refs = []
        self.limits.check_proposal_count(len(by_value) + len(refs))
        build = create_commit(
            st,
            by_value,
            refs,
            psk_lookup=self._psk_lookup,
            force_path=bool(path),
            now=self._now(),
            authenticated_data=authenticated_data,
            wire_format=wire_format,
            leaf_template=leaf_template,
            signature_priv=signature_priv,
            identity_of=self.identity_of,
            max_lifetime=self.max_lifetime,
            validator=self.credential_validator,
            components=self.components,
        )
        assert build.applied is not None
        nxt = build.next
        self.limits.check_tree(nxt.tree, "the tree after this commit")
        gi_exts = (
            (*group_info_extensions, grease_extension(besides=group_info_extensions))
            if grease
            else tuple(group_info_extensions)
        )
        welcome: bytes | None = None
        group_info: Callable[[], bytes]
        if build.applied.added:
            # the joiners need the tree unless it is sent out of band (option)
            gi = build_group_info(nxt, ratchet_tree=ratchet_tree_extension, extra_extensions=gi_exts)
            w = build_welcome(st.suite, gi, build.secrets, build.applied.added, build.applied.psks, build.created_path)
            welcome = MLSMessage(w).to_bytes()
            gi_bytes = MLSMessage(gi).to_bytes()
            group_info = lambda: gi_bytes
        else:
            # built on demand; the O(N) ratchet_tree extension only when asked for
            want_tree = bool(ratchet_tree_extension)

            def group_info() -> bytes:
                return MLSMessage(build_group_info(nxt, ratchet_tree=want_tree, extra_extensions=gi_exts)).to_bytes()

        message = build.message.to_bytes()
        if self.storage is not None:
            # ONE compare-and-swap: the pending commit and the state whose handshake ratchet it
            # may have advanced; never replaces a pending commit stored by someone else
            self._version = self.storage.save_pending_commit(
                st.group_id,
                st.epoch,
                encode_pending(nxt, message),
                expected_version=self._require_version(),
                state=None if only_tree_changed(st, build.current) else epoch_blob(build.current),
                rows=tree_changes(st.secret_tree, build.current.secret_tree),
            )
        self._state = build.current
        self._pending = _Pending(nxt, message, build.effects)
        return CommitOutput(message, welcome, group_info, build.effects)

    def merge_pending_commit(self) -> CommitEffects:
        """Install the epoch created by our pending commit."""
        if self._pending is None:
            raise StateError("no pending commit")
        p = self._pending
        nxt = _with_current_past_tree(p.next, self._state)
        self._store_epoch(nxt)  # one transaction: new epoch, pending commit dropped, old epoch deleted
        before = self._state.epoch
        self._state = nxt
        self._pending = None
        log.epoch_changed(self.group_id, before, nxt.epoch, "merged our commit")
        return p.effects

    def discard_pending_commit(self) -> None:
        """Drop our pending commit (e.g. the delivery service rejected it): the group stays
        in the current epoch, as if :meth:`commit` had not been called (RFC 9420 §12.4)."""
        if self._pending is None:
            raise StateError("no pending commit")
        self._discard_stored_pending()
        self._pending = None

    # ---- application data ---------------------------------------------------------------------
    def encrypt(self, data: bytes, *, authenticated_data: bytes = b"") -> bytes:
        """Application data as a PrivateMessage (§6.3, §15)."""
        require_bytes(data, "data")
        require_bytes(authenticated_data, "authenticated_data")
        self._check_can_send()
        if self._state.proposals:
            raise StateError("proposals are pending in this epoch: commit before sending application data (RFC 9420 §12.4)")
        if self.storage is None:
            msg, _, new = self._frame(data, WireFormat.PRIVATE_MESSAGE, authenticated_data)
            self._state = new
            return msg.to_bytes()
        # Reserve the generation in storage BEFORE its key encrypts anything (RFC 9420 §9.2,
        # §15): a compare-and-swap, so two processes sharing the storage can never both get
        # the same generation, i.e. never the same AEAD key and nonce. Reserved in blocks of
        # ``storage.reserve_block`` generations: inside the block nothing is written.
        st = self._state
        use = st.secret_tree.next_key(st.leaf_index, APPLICATION)  # pure lookup
        reserved = st.with_secret_tree(st.secret_tree.applied(use))
        res = self._reserved if self._reserved is not None and self._reserved[0] == st.epoch else None
        if res is None or use.generation >= res[1]:
            changes, limit, value = reservation_changes(
                st.secret_tree,
                reserved.secret_tree,
                st.leaf_index,
                block_size(st.secret_tree, self.storage.reserve_block),
                None if res is None else res[2],
                have_stored=res is not None,
            )
            self._version = self.storage.update_state(
                st.group_id, st.epoch, None, expected_version=self._require_version(), rows=changes
            )
            self._reserved = (st.epoch, limit, value)
        try:
            msg, _, new = self._frame(data, WireFormat.PRIVATE_MESSAGE, authenticated_data)  # uses `st`
        finally:
            self._state = reserved
        if new.secret_tree.position(st.leaf_index, APPLICATION) != reserved.secret_tree.position(
            st.leaf_index, APPLICATION
        ):  # cannot happen: the derivation is deterministic
            raise StateError("the ratchet generation used is not the one reserved")
        return msg.to_bytes()

    # ---- receiving -----------------------------------------------------------------------------
    def process(self, data: bytes) -> ProcessedMessage:
        """Process a PublicMessage or PrivateMessage of this group (RFC 9420 §6, §12).

        Returns an :class:`~mls_pq.group.results.ApplicationMessage` (the ratchet has
        advanced, §9.2), a :class:`~mls_pq.group.results.ProposalMessage` (the proposal is
        cached, §12.1) or a :class:`~mls_pq.group.results.StagedCommit`: a commit verified
        completely (§12.4.2) but NOT applied — the group and its storage stay unchanged
        until ``staged.merge()``; ``staged.discard()`` (or dropping it) keeps the current
        epoch. Our own pending commit sent back returns a StagedCommit with ``own=True``.

        A rejected message raises an :class:`~mls_pq.errors.MLSError` and leaves the group
        exactly as it was; rejections and epoch changes (at the merge) are logged on the
        ``mls_pq`` logger (see :mod:`mls_pq.log`)."""
        before = self._state.epoch
        try:
            return self._process(data)
        except MLSError as e:
            log.rejected(self.group_id, before, e)
            raise

    def _process(self, data: bytes) -> ProcessedMessage:
        if self._pending is not None and data == self._pending.message:
            return self._own_staged(self._pending)
        msg = _decode_message(data, self.limits)
        st = self._state
        if not st.active and not _late_application(st, msg.body):
            raise StateError("the group is inactive (we were removed or it was reinitialised)")
        body = msg.body
        suite = st.suite
        if isinstance(body, PublicMessage):
            ac = unprotect_public(
                suite,
                body,
                st.context,
                st.secrets.membership_key,
                st.member_key(),
                external_sender_keys(st.context),
            )
            tentative = st
        elif isinstance(body, PrivateMessage):
            if body.group_id == st.group_id and body.epoch < st.epoch:
                return self._process_past(body)  # a late message of a past epoch (§9.2)
            # pure lookup; the ratchet change is applied (O(log N)) only to the accepted state
            ac, use = open_private(suite, body, st.context, st.secret_tree, st.secrets.sender_data_secret, st.member_key())
            tentative = st.with_secret_tree(st.secret_tree.applied(use))
        else:
            raise ValidationError(f"{type(body).__name__} is not a group message; use join()", "6")
        content = ac.content
        sender = content.sender
        cred = self._sender_credential(st, sender, content)
        wf = int(ac.wire_format)
        ct = content.content_type
        if ct == ContentType.APPLICATION:
            assert isinstance(content.body, bytes)
            self._store_state(tentative, durable=False)  # see mls_pq.storage.base, durability
            self._state = tentative
            return ApplicationMessage(sender, content.epoch, content.authenticated_data, cred, wf, content.body)
        if ct == ContentType.PROPOSAL:
            prop = content.body
            assert isinstance(prop, Proposal)
            ref = suite.make_proposal_ref(ac.encoded)
            if st.proposal(ref) is None:  # a repeat is not cached twice: only a new one counts
                self.limits.check_pending_proposals(len(st.proposals))
            v.check_individual(suite, st.context, st.tree, prop, sender, now=self._now(), max_lifetime=self.max_lifetime)
            v.check_received_leaf(st.tree, _summary(st), prop, sender)
            v.authenticate_proposal(suite, self.credential_validator, st.context, st.tree, prop, sender, ours=False)
            if st.proposal(ref) is None:
                tentative = tentative.with_proposal(CachedProposal(ref, prop, sender))
            self._store_state(tentative)
            self._state = tentative
            return ProposalMessage(sender, content.epoch, content.authenticated_data, cred, wf, prop, ref)
        if isinstance(content.body, Commit):
            self.limits.check_proposal_count(len(content.body.proposals))
        new_state, effects = process_commit(
            tentative,
            ac,
            psk_lookup=self._psk_lookup,
            now=self._now(),
            identity_of=self.identity_of,
            max_lifetime=self.max_lifetime,
            validator=self.credential_validator,
            components=self.components,
        )
        self.limits.check_tree(new_state.tree, "the tree after this commit")
        # staged, not applied (§12.4.2): see _merge_staged
        return StagedCommit(
            sender,
            content.epoch,
            content.authenticated_data,
            cred,
            wf,
            effects,
            own=False,
            _group=self,
            _staged=StagedState(st, new_state, seen=None if self._pending is None else self._pending.message),
        )

    def _own_staged(self, p: _Pending) -> StagedCommit:
        """Our pending commit received back: staged, merged by :meth:`merge_pending_commit`."""
        msg = MLSMessage.from_bytes(p.message)
        body = msg.body
        if isinstance(body, PrivateMessage):
            aad = body.authenticated_data
        elif isinstance(body, PublicMessage):
            aad = body.content.authenticated_data
        else:  # pragma: no cover - we only create Public/PrivateMessage commits
            aad = b""
        st = self._state
        return StagedCommit(
            p.effects.committer,
            st.epoch,
            aad,
            st.own_leaf.credential,
            int(msg.wire_format),
            p.effects,
            own=True,
            _group=self,
            _staged=StagedState(st, p.next, p.message),
        )

    # ---- staged commits (mls_pq.group.results.StagedCommit) ------------------------------------
    def _staged_is_fresh(self, s: StagedState) -> bool:
        """Whether the group is still in the state ``s`` was verified against (or that state
        with only its exporter root dropped by :meth:`safe_export_secret`), with no commit of
        ours created since."""
        cur = self._state
        if self._pending is not None and self._pending.message != s.seen:
            return False
        return cur is s.base or self._root_dropped == (s.base, cur)

    def _own_is_merged(self, s: StagedState) -> bool:
        return self._state.epoch == s.next.epoch and self._state.secrets.epoch_authenticator == (
            s.next.secrets.epoch_authenticator
        )

    def _merge_staged(self, staged: StagedCommit) -> CommitEffects:
        """:meth:`StagedCommit.merge`: install the staged epoch (RFC 9420 §12.4.2), written
        through to storage first (one transaction that also drops our pending commit)."""
        s = staged._staged
        s.check_open()
        if staged.own:
            p = self._pending
            if p is None or p.message != s.pending:
                if p is None and self._own_is_merged(s):
                    raise StateError("this commit was already merged (merge_pending_commit)")
                raise StateError("stale staged commit: our pending commit was discarded or replaced")
            effects = self.merge_pending_commit()
            s.status = "merged"
            return effects
        if not self._staged_is_fresh(s):
            raise StateError(
                f"stale staged commit: the group changed since it was staged (epoch {self._state.epoch}"
                f", staged against {s.base.epoch}); process the commit again"
            )
        st, nxt = self._state, s.next
        if nxt.epoch > st.epoch:
            self._store_epoch(nxt)  # one transaction; also drops a pending commit of ours
        else:  # removed: same epoch, inactive
            self._store_state(nxt)
            if self._pending is not None:
                self._discard_stored_pending()
        self._state = nxt
        self._pending = None
        self._root_dropped = None
        self._open_staged = frozenset()
        s.status = "merged"
        if nxt.epoch != st.epoch:
            log.epoch_changed(self.group_id, st.epoch, nxt.epoch, "processed commit")
        return staged.effects

    def _discard_staged(self, staged: StagedCommit) -> None:
        """:meth:`StagedCommit.discard`: the group is not touched (it never was)."""
        s = staged._staged
        if s.status == "merged":
            raise StateError("this staged commit was already merged")
        s.status = "discarded"
        key = s.next.secrets.epoch_authenticator
        if key in self._open_staged and not staged.own:
            self._open_staged = self._open_staged - {key}

    def _staged_safe_export(self, staged: StagedCommit, component_id: int) -> bytes:
        """:meth:`StagedCommit.safe_export_secret` (draft-ietf-mls-extensions §4.4)."""
        s = staged._staged
        if s.status == "discarded":
            raise StateError("this staged commit was discarded")
        if s.status == "merged" or (staged.own and self._own_is_merged(s)):
            if not self._own_is_merged(s):
                raise StateError("the group has left the epoch of this staged commit")
            return self.safe_export_secret(component_id)
        if staged.own:
            if self._pending is None or self._pending.message != s.pending:
                raise StateError("stale staged commit: our pending commit was discarded or replaced")
            return self.pending_safe_export_secret(component_id)
        self._open_staged = self._open_staged | {s.next.secrets.epoch_authenticator}
        secret, dropped = self._safe_export(s.next, component_id)
        if dropped is not None:
            s.next = dropped
        return secret

    def _process_past(self, body: PrivateMessage) -> ApplicationMessage:
        """An application message of one of the ``options.max_past_epochs`` past epochs,
        decrypted with that epoch's secret tree, sender data secret, GroupContext and
        leaves (§9.2, §12.4.2 "keep the secret tree for a short time to decrypt late
        messages"); its ratchet change is applied to that past tree only if accepted."""
        st = self._state
        past = st.past_epoch(body.epoch)
        if past is None:
            raise PastEpochError(
                f"message epoch {body.epoch} is older than the {st.options.max_past_epochs} past epoch(s) kept"
                f" before {st.epoch}",
                "9.2",
            )
        if body.content_type != ContentType.APPLICATION:
            raise ValidationError("a proposal or commit of a past epoch is no longer valid", "12.4")
        ac, use = open_private(
            st.suite, body, past.context, past.secret_tree, past.sender_data_secret, past.member_key(st.tree)
        )
        updated = tuple(p.with_secret_tree(p.secret_tree.applied(use)) if p is past else p for p in st.past_epochs)
        tentative = st.evolve(past_epochs=updated)
        content = ac.content
        assert isinstance(content.body, bytes)
        leaf = past.leaf(content.sender.index, st.tree)
        self._store_state(tentative)
        self._state = tentative
        return ApplicationMessage(
            content.sender,
            content.epoch,
            content.authenticated_data,
            leaf.credential if leaf is not None else None,
            int(ac.wire_format),
            content.body,
        )

    @staticmethod
    def _sender_credential(st: GroupState, sender: Sender, content: FramedContent) -> Credential | None:
        if sender.sender_type == SenderType.MEMBER:
            leaf = st.tree.leaf(sender.index)
            return leaf.credential if leaf is not None else None
        if sender.sender_type == SenderType.NEW_MEMBER_COMMIT and isinstance(content.body, Commit):
            return content.body.path.leaf_node.credential if content.body.path is not None else None
        if sender.sender_type == SenderType.NEW_MEMBER_PROPOSAL and isinstance(content.body, Proposal):  # noqa: SIM102
            if isinstance(content.body.body, Add):
                return content.body.body.key_package.leaf_node.credential
        if sender.sender_type == SenderType.EXTERNAL:
            from ..extensions import EXTERNAL_SENDERS
            from ..messages.external_senders import parse_external_senders

            senders = parse_external_senders(st.context.extension(EXTERNAL_SENDERS))
            return senders[sender.index].credential if sender.index < len(senders) else None
        return None

    # ---- reinitialisation and branching (§11.2, §11.3) ------------------------------------------
    def reinit(
        self,
        key_packages: Iterable[bytes | KeyPackage],
        *,
        signature_priv: bytes | None = None,
        credential: Credential | None = None,
        config: GroupConfig | None = None,
        capabilities: Capabilities | None = None,
    ) -> tuple[Group, CommitOutput]:
        """After a ReInit was committed: create the new group it describes, add the other
        members (their KeyPackages for the new suite) with a ``reinit`` resumption PSK, and
        return the new group (its first commit merged) and the commit/Welcome (§11.2).
        ``config``: the new group's (default: this group's, options included)."""
        st = self._state
        ri = st.reinit
        if ri is None:
            raise StateError("no ReInit was committed in the previous epoch")
        new_suite = get_suite(ri.cipher_suite, st.suite.profile)
        sig = signature_priv or st.private.signature_priv
        return self._resume(
            new_suite,
            ri.group_id,
            tuple(ri.extensions),
            USAGE_REINIT,
            key_packages,
            sig,
            credential or st.own_leaf.credential,
            config,
            capabilities,
        )

    def branch(
        self,
        group_id: bytes,
        key_packages: Iterable[bytes | KeyPackage],
        *,
        extensions: Sequence[Extension] | None = None,
        config: GroupConfig | None = None,
    ) -> tuple[Group, CommitOutput]:
        """Start a subgroup with some members (their fresh KeyPackages), linked by a
        ``branch`` resumption PSK (§11.3). Returns the new group and its first commit.
        ``config``: the new group's (default: this group's, options included)."""
        self._check_can_send()
        st = self._state
        return self._resume(
            st.suite,
            group_id,
            tuple(extensions if extensions is not None else st.context.extensions),
            USAGE_BRANCH,
            key_packages,
            st.private.signature_priv,
            st.own_leaf.credential,
            config,
            st.own_leaf.capabilities,
        )

    def _resume(
        self,
        suite: CipherSuite,
        group_id: bytes,
        extensions: tuple[Extension, ...],
        usage: int,
        key_packages: Iterable[bytes | KeyPackage],
        signature_priv: bytes,
        credential: Credential,
        config: GroupConfig | None,
        capabilities: Capabilities | None,
    ) -> tuple[Group, CommitOutput]:
        st = self._state
        cfg = _config_arg(config) if config is not None else self._config
        psk_value = st.secrets.resumption_psk
        if self.storage is not None:
            # the new group may reuse our group_id (a ReInit may keep it, §11.2): the stored
            # state of the group we leave is replaced, its resumption PSKs kept (§12.4.3.1)
            claim_group_id(self.storage, group_id, suite, replace_active=False, section="11.2")
        new = Group.create(
            suite,
            group_id,
            credential,
            signature_priv,
            extensions=extensions,
            capabilities=capabilities if capabilities is not None and suite.id in capabilities.cipher_suites else None,
            config=cfg,
            psk_store=self.psk_store,
            storage=self.storage,
        )
        pid = PreSharedKeyID.resumption(usage, st.group_id, st.epoch, random_psk_nonce(suite))
        new.resumption_psks[(st.group_id, st.epoch)] = psk_value
        adds = [Proposal(Add(parse_key_package(kp))) for kp in key_packages]
        build = create_commit(
            new._state,
            [*adds, Proposal(PreSharedKey(pid))],
            [],
            psk_lookup=new._psk_lookup,
            now=new._now(),
            identity_of=cfg.identity_of,
            psk_usage=usage,
            max_lifetime=cfg.max_lifetime,
            validator=cfg.credential_validator,
        )
        gi = build_group_info(build.next)
        assert build.applied is not None
        welcome = None
        if build.applied.added:
            w = build_welcome(suite, gi, build.secrets, build.applied.added, build.applied.psks, build.created_path)
            welcome = MLSMessage(w).to_bytes()
        new._store_epoch(build.next)
        new._state = build.next
        gi_bytes = MLSMessage(gi).to_bytes()
        return new, CommitOutput(build.message.to_bytes(), welcome, lambda: gi_bytes, build.effects)

    # ---- persistence --------------------------------------------------------------------------
    def _store_epoch(self, st: GroupState, consumed: bytes | None = None) -> None:
        """Write a new epoch (ONE storage transaction, a compare-and-swap on the version we
        read; see :mod:`.persistence`)."""
        if self.storage is not None:
            self._version = self.storage.save_epoch(
                st.group_id,
                st.epoch,
                epoch_blob(st),
                expected_version=self._version,
                resumption_psk=st.secrets.resumption_psk,
                consumed_key_package=consumed,
                rows=tree_rows(st.secret_tree),
                # the epoch we leave must still have the rows we saw (no stale secret tree is
                # carried into the past epochs kept in the new state)
                expected_rows=None if self._version is None else self._rows_as_stored(),
            )
            self._reserved = None

    def _rows_as_stored(self) -> list[tuple[bytes, bytes]]:
        """The current epoch's rows as we wrote them: our own application row is the
        reserved one (ahead of the in-memory ratchet) while a sending block lasts."""
        st, res = self._state, self._reserved
        rows = tree_rows(st.secret_tree)
        return rows if res is None or res[0] != st.epoch else with_reserved_row(rows, st.leaf_index, res[2])

    def _store_state(self, st: GroupState, *, durable: bool = True) -> None:
        """Write a change inside the current epoch (before it takes effect): a
        compare-and-swap, ConcurrentModificationError if another writer got there first.
        A change of the secret tree only (a message sent or received) writes just its rows
        (``durable=False``: a received application message's, see :mod:`mls_pq.storage.base`)."""
        if self.storage is not None and st is not self._state:
            old = self._state
            self._version = self.storage.update_state(
                st.group_id,
                st.epoch,
                None if only_tree_changed(old, st) else epoch_blob(st),
                expected_version=self._require_version(),
                rows=tree_changes(old.secret_tree, st.secret_tree),
                durable=durable,
            )

    def _require_version(self) -> int:
        if self._version is None:
            raise ConcurrentModificationError("this Group was not loaded from its storage: use Group.load")
        return self._version

    def _discard_stored_pending(self) -> None:
        if self.storage is not None and self.storage.discard_pending_commit(
            self._state.group_id, expected_version=self._require_version()
        ):
            self._version = self._require_version() + 1  # the contract: one write, one increment

    def reload(self) -> None:
        """Re-read the current epoch, the pending commit and the version from ``storage``,
        e.g. after a :class:`~mls_pq.errors.ConcurrentModificationError` (another process or
        Group object wrote the group since we read it). StateError if not stored."""
        if self.storage is None:
            raise StateError("the group has no storage to reload from")
        fresh = Group.load(self.storage, self._state.group_id, suite=self._state.suite, config=self._config)
        self._state, self._pending, self._version = fresh._state, fresh._pending, fresh._version
        self._reserved = None  # the unused reserved generations are given up

    def save(self, storage: Storage) -> None:
        """Save the member's state (and pending commit) to ``storage`` and write every later
        change through to it. The stored epoch may be older (saved with a new-epoch
        transaction) or the same (overwritten); a newer stored epoch is a StateError."""
        st = self._state
        gid = st.group_id
        stored = storage.load_group(gid)
        seen = None if stored is None else stored.version  # each write below is a CAS on it
        rows = tree_rows(st.secret_tree)
        if stored is None or stored.epoch < st.epoch:
            version = storage.save_epoch(
                gid,
                st.epoch,
                epoch_blob(st),
                expected_version=seen,
                resumption_psk=st.secrets.resumption_psk,
                rows=rows,
            )
        elif stored.epoch == st.epoch:
            version = storage.update_state(
                gid,
                st.epoch,
                epoch_blob(st),
                expected_version=stored.version,
                rows=row_changes_between(stored.rows, rows),
            )
        else:
            raise StateError(f"the storage holds epoch {stored.epoch}, newer than ours ({st.epoch})")
        if self._pending is not None:
            pending = encode_pending(self._pending.next, self._pending.message)
            version = storage.save_pending_commit(gid, st.epoch, pending, expected_version=version, replace=True)
        elif storage.discard_pending_commit(gid, expected_version=version):
            version += 1
        self.storage = storage
        self._version = version
        self._reserved = None  # our in-memory ratchet position is what is stored now

    @classmethod
    def load(
        cls,
        storage: Storage,
        group_id: bytes,
        *,
        suite: CipherSuite | None = None,
        psk_store: MutableMapping[bytes, bytes] | None = None,
        resumption_psks: MutableMapping[tuple[bytes, int], bytes] | None = None,
        config: GroupConfig | None = None,
    ) -> Group:
        """The member as last stored (current epoch and pending commit), writing through to
        ``storage`` from now on. StateError if the group is not stored. Only the options of
        a :class:`~mls_pq.group.config.GroupConfig` are stored, and the stored ones win
        (``config.options`` is ignored: ``g.config.options`` is what the group was created
        or joined with); the application's hooks (``config``'s clock, credential_validator,
        limits, components; the PSK stores) are not stored: pass them."""
        require_bytes(group_id, "group_id")
        cfg = _config_arg(config)
        stored = storage.load_group(group_id)
        if stored is None:
            raise StateError("the group is not in the storage")
        state = with_rows(GroupState.from_bytes(stored.state, suite), stored.rows)
        cfg.limits.check_tree(state.tree, "the stored tree")
        g = cls(state, config=cfg, psk_store=psk_store, resumption_psks=resumption_psks, storage=storage)
        g._version = stored.version
        moved = [] if stored.rows else [(k, None, v) for k, v in tree_rows(state.secret_tree)]
        if moved:
            # a state stored before rows existed (its secret tree inside the blob): move the
            # tree to rows once, so that per-message writes find the rows they replace
            g._version = storage.update_state(
                group_id, state.epoch, epoch_blob(state), expected_version=stored.version, rows=moved
            )
        pc = storage.load_pending_commit(group_id)
        if pc is not None and pc.epoch == state.epoch:
            nxt, message = decode_pending(pc.commit, state.suite)
            g._pending = _Pending(nxt, message, _reconstructed_effects(state, nxt, message))
        return g

    def to_bytes(self) -> bytes:
        """The member's state (and pending commit, if any) as versioned bytes, ending with a
        SHA-256 digest (checked by :meth:`from_bytes`: corruption is detected, forgery by
        whoever can write the bytes is not). Contains secrets. Of the
        :class:`~mls_pq.group.config.GroupConfig` only ``options`` is included; PSK stores,
        the clock, the credential validator... are the application's."""
        w = Writer().opaque(_GROUP_MAGIC).opaque(self._state.to_bytes())
        p = self._pending
        w.optional(p, lambda ww, pp: ww.opaque(pp.next.to_bytes()).opaque(pp.message))
        return seal_digest(w.getvalue(), _GROUP_MAGIC)

    @classmethod
    def from_bytes(
        cls,
        data: bytes,
        *,
        suite: CipherSuite | None = None,
        config: GroupConfig | None = None,
        psk_store: MutableMapping[bytes, bytes] | None = None,
        resumption_psks: MutableMapping[tuple[bytes, int], bytes] | None = None,
    ) -> Group:
        """Inverse of :meth:`to_bytes`. :class:`~mls_pq.errors.CorruptStateError` (a
        StateError and a DecodeError) if the digest or any field is wrong. As for
        :meth:`load`, the serialised options win over ``config.options``; the rest of
        ``config`` (clock, credential_validator, limits...) is the application's: pass it."""
        require_bytes(data, "data")
        cfg = _config_arg(config)
        r = Reader(open_digest(data, _GROUP_MAGIC, "serialised group"))
        try:
            if r.opaque() != _GROUP_MAGIC:
                raise CorruptStateError("not a serialised mls-pq group")
            state = GroupState.from_bytes(r.opaque(), suite)
            pending = r.optional(lambda rr: (rr.opaque(), rr.opaque()))
            r.done()
        except (IndexError, ValueError) as e:
            raise CorruptStateError(f"malformed group: {e}") from None
        except DecodeError as e:
            if isinstance(e, CorruptStateError):
                raise
            raise CorruptStateError(f"malformed group: {e}") from None
        cfg.limits.check_tree(state.tree, "the serialised tree")
        g = cls(state, config=cfg, psk_store=psk_store, resumption_psks=resumption_psks)
        if pending is not None:
            nxt = GroupState.from_bytes(pending[0], state.suite)
            g._pending = _Pending(nxt, pending[1], _reconstructed_effects(state, nxt, pending[1]))
        return g


_GROUP_MAGIC = b"MLSPQ-GROUP"


def _config_arg(config: GroupConfig | None) -> GroupConfig:
    """``config=`` of the public entry points, type-checked at the boundary (None: the defaults)."""
    if config is None:
        return DEFAULT_CONFIG
    if not isinstance(config, GroupConfig):
        raise TypeError(f"config must be a GroupConfig, not {type(config).__name__}")
    return config


def _with_options(config: GroupConfig, options: GroupOptions) -> GroupConfig:
    """``config`` with the group's persisted ``options`` (they win, see :mod:`.config`)."""
    return config if config.options == options else replace(config, options=options)


def _late_application(st: GroupState, body: object) -> bool:
    """Whether an inactive member still reads ``body``: an application PrivateMessage of the
    epoch it was removed in or of a kept past epoch (§12.4.2: "a client might keep the secret
    tree for a short time to decrypt late messages in the previous epoch"; kept only while
    ``options.max_past_epochs`` > 0)."""
    if not isinstance(body, PrivateMessage) or body.content_type != ContentType.APPLICATION:
        return False
    if st.options.max_past_epochs == 0 or body.group_id != st.group_id:
        return False
    return body.epoch < st.epoch or (body.epoch == st.epoch and st.reinit is None)


def _with_current_past_tree(nxt: GroupState, current: GroupState) -> GroupState:
    """``nxt`` (built when our commit was created) with the epoch it leaves recorded with
    the ratchets as they are *now*: keys used since the commit was created stay deleted (§9.2)."""
    if not nxt.past_epochs or current.epoch != nxt.past_epochs[-1].epoch:
        return nxt
    last = nxt.past_epochs[-1]
    if last.secret_tree is current.secret_tree:
        return nxt
    return nxt.evolve(past_epochs=(*nxt.past_epochs[:-1], last.with_secret_tree(current.secret_tree)))


def _summary(st: GroupState) -> v.CapSummary:
    from .state import summary_of

    return summary_of(st)


def _reconstructed_effects(before: GroupState, after: GroupState, message: bytes) -> CommitEffects:
    """Effects of a restored pending commit, recomputed from the two trees."""
    old = dict(before.tree.leaves())
    new = dict(after.tree.leaves())
    added = tuple(MemberInfo.of(i, leaf) for i, leaf in new.items() if i not in old)
    removed = tuple(MemberInfo.of(i, leaf) for i, leaf in old.items() if i not in new)
    updated = tuple(MemberInfo.of(i, leaf) for i, leaf in new.items() if i in old and old[i] != leaf)
    del message
    return CommitEffects(
        epoch=after.epoch,
        committer=Sender.member(before.leaf_index),
        added=added,
        removed=removed,
        updated=updated,
        reinit=after.reinit,
    )


def _foreign_lookup(
    psk_store: Mapping[bytes, bytes],
    resumption: Mapping[tuple[bytes, int], bytes],
    storage: Storage | None = None,
    application: Mapping[tuple[int, bytes], bytes] | None = None,
) -> Callable[[PreSharedKeyID], bytes | None]:
    """External PSKs by psk_id, application PSKs by (component_id, psk_id)
    (draft-ietf-mls-extensions §4.5), resumption PSKs of other groups by (group_id, epoch),
    then the resumption PSKs kept in ``storage`` (§8.6)."""

    def lookup(pid: PreSharedKeyID) -> bytes | None:
        if pid.psktype == PSK_EXTERNAL:
            return psk_store.get(pid.psk_id)
        if pid.psktype == PSK_APPLICATION:
            return (application or {}).get((pid.component_id, pid.psk_id))
        got = resumption.get((pid.psk_group_id, pid.psk_epoch))
        if got is None and storage is not None:
            got = storage.load_resumption_psk(pid.psk_group_id, pid.psk_epoch)
        return got

    return lookup


__all__ = ["CommitOutput", "Group"]
