"""draft-ietf-mls-extensions §5 support checks cost O(changed leaves) when a commit keeps the
group's requirements (every FULL commit of the combiner changes only APQInfo's data), and every
leaf when a commit raises them."""

from __future__ import annotations

import pytest

import mls_pq.group.commit as commit_mod
import mls_pq.group.validation as v
from mls_pq.apq.structs import APQInfo, APQInfoUpdate

from ..apq.test_full_commit_flow import PQ, T, full_commit, receive, session

N = 6


def _count(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    calls = {"support": 0, "members": 0}
    real_support, real_members = getattr(commit_mod, "check_leaf_supports"), v.check_gce_members

    def support(*a: object, **k: object) -> None:
        calls["support"] += 1
        real_support(*a, **k)

    def members(*a: object, **k: object) -> None:
        calls["members"] += 1
        real_members(*a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(commit_mod, "check_leaf_supports", support)
    monkeypatch.setattr(v, "check_gce_members", members)
    return calls


def test_data_only_app_data_update_checks_no_existing_leaf(monkeypatch: pytest.MonkeyPatch) -> None:
    names = [bytes([97 + i]) for i in range(N)]
    ts, pqs = session(T, b"t", names), session(PQ, b"pq", names)
    first = APQInfo(b"t", b"pq", False, T.id, PQ.id, ts[0].epoch + 1, pqs[0].epoch + 1)
    receive(ts[1], pqs[1], full_commit(ts[0], pqs[0], APQInfoUpdate.full(first)))
    calls = _count(monkeypatch)
    # a second FULL commit changes APQInfo's epochs only: requirements and extension types kept
    data = full_commit(ts[0], pqs[0], [APQInfoUpdate.t_epoch(ts[0].epoch + 1), APQInfoUpdate.pq_epoch(pqs[0].epoch + 1)])
    created = dict(calls)
    receive(ts[1], pqs[1], data)
    assert created == {"support": 0, "members": 0}  # the committer: no O(N) walk
    assert calls == {"support": 0, "members": 0}  # the receiver neither
    assert ts[1].epoch_authenticator == ts[0].epoch_authenticator


def test_group_context_extensions_recheck_every_leaf(monkeypatch: pytest.MonkeyPatch) -> None:
    names = [bytes([97 + i]) for i in range(N)]
    ts = session(T, b"t", names)
    calls = _count(monkeypatch)
    out = ts[0].commit(group_context_extensions=list(ts[0].group_context.extensions))
    assert calls["members"] == 1 and calls["support"] == N  # §12.1.7 and §5: every member again
    ts[0].discard_pending_commit()
    assert out.commit
