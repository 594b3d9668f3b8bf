"""One member's configuration: :class:`GroupConfig` (RFC 9420 §5.3.1, §7.2, §7.3, §9.2).

Every policy a :class:`~mls_pq.group.member.Group` applies that the protocol leaves to the
application lives here, validated once and documented once; ``Group.create``, ``join``,
``join_external``, ``load``, ``from_bytes``, ``reinit``, ``branch`` and the constructor all
take ``config=`` and nothing else of this kind. Only ``options`` is persisted with the
group's state (it shapes the state itself: the secret trees, the kept past epochs); every
other field is the application's (a callable, a registry, a bound) and is passed again
when the group is loaded.

| field | default | RFC | what | persisted |
|---|---|---|---|---|
| ``options`` | ``GroupOptions()`` | §6.3.1, §8.6, §9.2 | wire format of handshakes, padding, ratchet window and forward distance, past epochs kept, GroupInfo extensions | yes (the stored options win on load) |
| ``clock`` | ``system_clock`` | §7.2, §7.3 | seconds since the Unix epoch for the LeafNode lifetime checks; ``None`` disables them (only for replaying recorded vectors) | no |
| ``identity_of`` | ``default_identity`` (the signature key) | §5.3.1, §12.2 | the identity a leaf presents ("the same client" checks) | no |
| ``max_lifetime`` | ``None`` (no maximum) | §7.2 | the longest total lifetime (seconds) of a LeafNode accepted | no |
| ``credential_validator`` | ``None`` (accept all) | §5.3.1 | the Authentication Service; production applications MUST supply one | no |
| ``limits`` | ``DEFAULT_LIMITS`` | §2.1.2 | message size, group size, proposals per commit and per epoch (:mod:`mls_pq.limits`) | no |
| ``check_tree_lifetimes`` | ``False`` | §7.3 | the RECOMMENDED lifetime check of every leaf of a tree we join (Welcome, external commit) | no |
| ``components`` | ``EMPTY_REGISTRY`` | ext. §4.7 | handlers of the application's components (AppDataUpdate) | no |

("ext." is draft-ietf-mls-extensions.) A wrong type is a :class:`TypeError` naming the
field; a value out of range a :class:`~mls_pq.errors.ValidationError` (as
:class:`~mls_pq.group.state.GroupOptions` raises for its own fields). A config is frozen:
derive another with :func:`dataclasses.replace`, e.g. ``g.config = replace(g.config,
components=registry)``.

Persisted options: ``options`` applies when a group is created or joined (and to the new
group of ``reinit``/``branch``); a loaded group keeps the options stored with it, whatever
``config.options`` says (``Group.load``/``from_bytes`` document it), so a new default of the
application applies to new groups only. A live group's options cannot be changed: setting
``group.config`` to a config with other options is a :class:`~mls_pq.errors.StateError`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..components import EMPTY_REGISTRY, ComponentRegistry
from ..credentials import CredentialValidator
from ..errors import ValidationError
from ..limits import DEFAULT_LIMITS, Limits
from ..tree.ratchet_tree import system_clock
from .state import GroupOptions
from .validation import IdentityOf, default_identity

#: seconds since the Unix epoch (RFC 9420 §7.2 lifetimes)
Clock = Callable[[], int]


def _type_name(value: object) -> str:
    return type(value).__name__


@dataclass(frozen=True)
class GroupConfig:
    """A member's policy: see the module docstring for the table of fields (default, RFC
    section, persisted or not). Frozen and validated on construction."""

    #: persisted with the state: wire format, padding, ratchet window... (§6.3.1, §9.2)
    options: GroupOptions = field(default_factory=GroupOptions)
    #: seconds since the Unix epoch for lifetime checks (§7.3); None: no lifetime checks
    clock: Clock | None = system_clock
    #: the identity a leaf presents (§5.3.1, §12.2)
    identity_of: IdentityOf = default_identity
    #: the maximum total lifetime of a LeafNode in seconds (§7.2); None: no maximum
    max_lifetime: int | None = None
    #: the Authentication Service (§5.3.1); None accepts every credential
    credential_validator: CredentialValidator | None = None
    #: resource limits (:mod:`mls_pq.limits`)
    limits: Limits = DEFAULT_LIMITS
    #: check the lifetime of every leaf of a tree we join (§7.3, RECOMMENDED; off by default:
    #: members that never updated legitimately keep expired key_package leaves)
    check_tree_lifetimes: bool = False
    #: handlers of the application's components (draft-ietf-mls-extensions §4.7)
    components: ComponentRegistry = EMPTY_REGISTRY

    def __post_init__(self) -> None:
        if not isinstance(self.options, GroupOptions):
            raise TypeError(f"GroupConfig.options must be a GroupOptions, not {_type_name(self.options)}")
        for name in ("clock", "credential_validator"):
            value = getattr(self, name)
            if value is not None and not callable(value):
                raise TypeError(f"GroupConfig.{name} must be callable or None, not {_type_name(value)}")
        if not callable(self.identity_of):
            raise TypeError(f"GroupConfig.identity_of must be callable, not {_type_name(self.identity_of)}")
        ml = self.max_lifetime
        if ml is not None:
            if not isinstance(ml, int) or isinstance(ml, bool):
                raise TypeError(f"GroupConfig.max_lifetime must be an int (seconds) or None, not {_type_name(ml)}")
            if ml < 1:
                raise ValidationError(f"GroupConfig.max_lifetime must be positive (seconds), not {ml}", "7.2")
        if not isinstance(self.limits, Limits):
            raise TypeError(f"GroupConfig.limits must be a Limits, not {_type_name(self.limits)}")
        if not isinstance(self.check_tree_lifetimes, bool):
            raise TypeError(
                f"GroupConfig.check_tree_lifetimes must be a bool, not {_type_name(self.check_tree_lifetimes)}"
            )
        if not isinstance(self.components, ComponentRegistry):
            raise TypeError(f"GroupConfig.components must be a ComponentRegistry, not {_type_name(self.components)}")

    def now(self) -> int | None:
        """The clock's time, or None when lifetime checks are disabled (``clock=None``)."""
        return self.clock() if self.clock is not None else None


#: the configuration of a group nobody configured
DEFAULT_CONFIG = GroupConfig()

__all__ = ["DEFAULT_CONFIG", "Clock", "GroupConfig"]
