"""The workload schema: one clear error per problem (field path + what was expected)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from mls_pq.simulate.workload import WorkloadError, load_workload, parse_workload

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "workloads"

GOOD = {
    "days": 1,
    "policies": [{"suite": 1}],
    "populations": [{"groups": 3, "size": {"dist": "fixed", "value": 4}}],
}


def problems(doc: dict[str, Any], **kw: object) -> list[str]:
    with pytest.raises(WorkloadError) as ei:
        parse_workload(doc, **kw)  # type: ignore[arg-type]
    return ei.value.problems


def with_(**changes: object) -> dict[str, Any]:
    d = {k: (v.copy() if isinstance(v, dict) else v) for k, v in GOOD.items()}
    d.update(changes)
    return d


def test_good_minimal() -> None:
    w = parse_workload(GOOD)
    assert w.days == 1 and w.policies[0].suite == 1 and w.policies[0].commits == "public"
    assert w.populations[0].size.value == 4 and w.total_groups == 3


def test_every_problem_reported_with_its_path() -> None:
    doc = {
        "days": 0,
        "policies": [{"suite": 0x1234, "commits": "encrypted"}, {"suite": 1, "ratchet_tree": "pigeon"}],
        "populations": [
            {"groups": -1, "size": {"dist": "lognormal", "median": 10, "p99": 5, "max": 100}},
            {"groups": 2, "size": {"dist": "poisson"}, "activity": {"messages_per_member_per_day": "many"}},
        ],
        "colour": "blue",
    }
    got = problems(doc)
    assert "colour: unknown key (expected one of: calibration, days, name, policies, populations, seed, "\
           "self_check, shard_groups)" in got
    assert "days: expected a number > 0, got 0" in got
    assert any(p.startswith("policies[0].suite: expected a registered suite id (one of 0x0001,") and
               p.endswith("got 4660") for p in got)
    assert "policies[0].commits: expected one of 'public', 'private', got 'encrypted'" in got
    assert "policies[1].ratchet_tree: expected one of 'welcome', 'out_of_band', got 'pigeon'" in got
    assert "populations[0].groups: expected an integer >= 1, got -1" in got
    assert "populations[0].size.p99: expected a number > median (10), got 5" in got
    assert "populations[1].size.dist: expected one of 'fixed', 'uniform', 'lognormal', 'empirical', got 'poisson'" \
        in got
    assert "populations[1].activity.messages_per_member_per_day: expected a number >= 0, got 'many'" in got
    assert len(got) == 9, got


@pytest.mark.parametrize(("change", "message"), [
    ({"policies": []}, "policies: expected a non-empty array of tables ([[policies]]), got []"),
    ({"populations": [{"groups": 1}]},
     "populations[0].size: missing (expected a table with dist = fixed|uniform|lognormal|empirical)"),
    ({"populations": [{"groups": 1.5, "size": {"dist": "fixed", "value": 3}}]},
     "populations[0].groups: expected an integer >= 1, got 1.5"),
    ({"populations": [{"groups": 1, "size": {"dist": "uniform", "min": 9, "max": 3}}]},
     "populations[0].size.max: expected an integer >= min (9), got 3"),
    ({"populations": [{"groups": 1, "size": {"dist": "fixed", "value": 3},
                       "activity": {"updates_per_member_per_day": 1, "update_every_messages": 5}}]},
     "populations[0].activity: expected at most one of updates_per_member_per_day and update_every_messages"),
    ({"populations": [{"groups": 1, "size": {"dist": "fixed", "value": 3},
                       "activity": {"late_join_fraction": 2}}]},
     "populations[0].activity.late_join_fraction: expected a number >= 0 and <= 1, got 2"),
    ({"calibration": {"sizes": [2, 4]}},
     "calibration.sizes: expected an array of at least 3 distinct integers >= 2, got [2, 4]"),
    ({"self_check": {"cpu_tolerance": 0}}, "self_check.cpu_tolerance: expected a number > 0, got 0"),
    ({"policies": [{"suite": 1, "colour": 3}]},
     "policies[0].colour: unknown key (expected one of: combiner, commits, full_every, name, ratchet_tree, suite)"),
])
def test_single_problem(change: dict[str, Any], message: str) -> None:
    assert problems(with_(**change)) == [message]


def test_combiner_policy() -> None:
    w = parse_workload(with_(policies=[{"suite": 1}, {"combiner": "0x0001+0xF006", "full_every": 10}]))
    c = w.policies[1]
    assert (c.suite, c.pq_suite, c.full_every, c.combined) == (1, 0xF006, 10, True)
    assert c.name == "combiner 0x0001+0xF006 (FULL every 10)" and c.key == "0x0001+0xf006-public-welcome"
    assert not w.policies[0].combined and w.policies[0].pq_suite is None


@pytest.mark.parametrize(("policy", "messages"), [
    ({"suite": 1, "combiner": "0x0001+0xF006", "full_every": 4},
     ["policies[0].suite: expected either suite or combiner, not both"]),
    ({"suite": 1, "full_every": 4},
     ['policies[0].combiner: missing (full_every is for combined groups: expected combiner = "T+PQ", '
      'e.g. "0x0001+0xF006")']),
    ({"combiner": "0x0001+0xF006"},
     ["policies[0].full_every: missing (expected an integer >= 1: a FULL commit every k self-updates)"]),
    ({"combiner": "0x0001+0xF006", "full_every": 0}, ["policies[0].full_every: expected an integer >= 1, got 0"]),
    ({"combiner": "0x0001", "full_every": 2},
     ['policies[0].combiner: expected "TRADITIONAL+PQ" suite ids (e.g. "0x0001+0xF006"), got \'0x0001\'']),
    ({"combiner": "0x0001+0xF006", "full_every": 2, "commits": "private", "ratchet_tree": "out_of_band"},
     ["policies[0].commits: expected 'public' for a combined group (its size model frames commits as "
      "PublicMessage), got 'private'",
      "policies[0].ratchet_tree: expected 'welcome' for a combined group (the Welcome pair carries both trees), "
      "got 'out_of_band'"]),
])
def test_combiner_policy_problems(policy: dict[str, Any], messages: list[str]) -> None:
    assert problems(with_(policies=[policy])) == messages


def test_combiner_pair_checked() -> None:
    """An invalid pair (draft-ietf-mls-combiner §7.1) or an unknown suite: one line each."""
    got = problems(with_(policies=[{"combiner": "0xF006+0x0001", "full_every": 2},
                                   {"combiner": "0x0001+0x9999", "full_every": 2}]))
    assert len(got) == 2, got
    assert got[0].startswith("policies[0].combiner: expected a valid APQ-MLS suite pair (draft-ietf-mls-combiner "
                             "§7.1: ") and got[0].endswith("got '0xF006+0x0001'")
    assert got[1].startswith("policies[1].combiner (PQ suite): expected a registered suite id (one of 0x0001")


def test_empirical_csv(tmp_path: Path) -> None:
    (tmp_path / "sizes.csv").write_text("size,weight\n2,70\n10,25\n500,5\n")
    (tmp_path / "bad.csv").write_text("size,weight\n2,70\nten,3\n")
    doc = with_(populations=[{"groups": 5, "size": {"dist": "empirical", "csv": "sizes.csv"}}])
    w = parse_workload(doc, base=tmp_path)
    assert w.populations[0].size.table == ((2, 10, 500), (0.7, 0.25, 0.05))
    doc = with_(populations=[{"groups": 5, "size": {"dist": "empirical", "csv": "bad.csv"}}])
    assert problems(doc, base=tmp_path) == [
        ("populations[0].size.csv line 3: expected 'size,weight' with an integer size >= 1 and a weight >= 0, "
        "got 'ten,3'")]
    doc = with_(populations=[{"groups": 5, "size": {"dist": "empirical", "csv": "missing.csv"}}])
    assert problems(doc, base=tmp_path) == [
        "populations[0].size.csv: expected a readable CSV file, got 'missing.csv (No such file or directory)'"]


def test_file_errors(tmp_path: Path) -> None:
    p = tmp_path / "w.toml"
    p.write_text("days = = 3\n")
    with pytest.raises(WorkloadError) as ei:
        load_workload(p)
    assert len(ei.value.problems) == 1 and ei.value.problems[0].startswith("not valid TOML (")
    with pytest.raises(WorkloadError, match="cannot read the file"):
        load_workload(tmp_path / "absent.toml")


@pytest.mark.parametrize("name", ["consumer.toml", "enterprise.toml", "worst_case.toml"])
def test_examples_are_valid(name: str) -> None:
    w = load_workload(EXAMPLES / name)
    with open(EXAMPLES / name, "rb") as f:
        raw = tomllib.load(f)
    assert [p.suite for p in w.policies] == [p.get("suite", int(p.get("combiner", "0+0").split("+")[0], 0))
                                             for p in raw["policies"]]
    assert [p.full_every for p in w.policies] == [p.get("full_every", 0) for p in raw["policies"]]
    assert w.total_groups == sum(p["groups"] for p in raw["populations"])
