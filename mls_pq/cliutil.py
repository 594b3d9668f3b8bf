"""Argument checking shared by the ``mls-pq`` commands: usage errors as one sentence.

* :class:`UsageError` — a wrong argument; the command line prints ``mls-pq: error: …`` on one
  line and exits with status 2 (no traceback);
* :class:`Parser` — ``argparse`` with one-line errors (status 2) instead of usage + error;
* :func:`parse_suites` — suite ids **or names/aliases**, case-insensitive: ``1``, ``0xF001``,
  ``suite1``, the full name (``MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519``, with or without
  ``MLS_``), ``x-wing``, or a KEM/signature part of a name (``mlkem768``, ``mldsa65``, ``p256``:
  the lowest-numbered suite that has it), and the groups ``all`` / ``pq``;
* :func:`parse_sizes` — group sizes, integers ≥ 2;
* :func:`check_out_dir` — an output directory that can be created and written, checked in
  microseconds before any work, creating nothing.

Hand-written: argparse parses, but no library knows the suite names or the checks above.
This module imports nothing heavy (the parser is built on every ``mls-pq`` call) and no
other command module, so the commands import it without import cycles.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

#: aliases -> a name part they stand for (then: the lowest-numbered suite that has it)
ALIASES = {"xwing": "MLKEM768X25519"}


class UsageError(ValueError):
    """A wrong command-line argument: one sentence saying what is wrong and what is valid."""


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _key(s: str) -> str:
    return "".join(ch for ch in s.lower() if ch.isalnum())


def parse_suites(spec: Sequence[str], profile: str | None = None) -> list[int]:
    """Suite ids from comma-separated tokens (see the module doc); raises
    :class:`UsageError` for an unknown token, listing the valid ones."""
    from .errors import MLSError
    from .suites import REGISTRY
    from .suites.registry import PQ_SUITES

    try:
        ids_known = REGISTRY.ids(profile)
    except MLSError as e:  # unknown profile
        raise UsageError(str(e)) from None
    names = {sid: REGISTRY.definition(sid, profile).name for sid in ids_known}
    out: list[int] = []
    for item in spec:
        for raw in item.split(","):
            tok = raw.strip()
            if not tok:
                continue
            out += resolve_suite(tok, ids_known, names, {d.name for _, d in PQ_SUITES})
    if not out:
        raise UsageError("no suite given; " + valid_suites_text(ids_known, names))
    return list(dict.fromkeys(out))


def resolve_suite(tok: str, ids_known: Sequence[int], names: dict[int, str], pq_names: set[str]) -> list[int]:
    low = tok.lower()
    if low == "all":
        return list(ids_known)
    if low == "pq":
        return [i for i in ids_known if names[i] in pq_names]
    num = low.removeprefix("suite").lstrip("-_ ")
    try:
        sid = int(num, 0)
    except ValueError:
        sid = None
    if sid is not None:
        if sid in ids_known:
            return [sid]
        raise UsageError(f"unknown suite {tok!r}; " + valid_suites_text(ids_known, names))
    k = _key(tok)
    for sid, name in names.items():  # full names, with or without the MLS_ prefix
        if k in (_key(name), _key(name.removeprefix("MLS_"))):
            return [sid]
    part = _key(ALIASES.get(k, k))
    for sid in sorted(ids_known):  # a part of a name: the lowest-numbered suite that has it
        if part in (_key(p) for p in names[sid].split("_")[2:]):
            return [sid]
    raise UsageError(f"unknown suite {tok!r}; " + valid_suites_text(ids_known, names))


def valid_suites_text(ids_known: Sequence[int], names: dict[int, str]) -> str:
    return ("valid: " + ", ".join(f"0x{i:04x}" for i in ids_known)
            + ", 'all', 'pq', a full name such as " + (names[ids_known[0]] if ids_known else "MLS_…")
            + ", suite1, x-wing, or a name part such as mlkem768, mldsa65, p256 (see mls-pq suites)")


def parse_int_list(spec: Sequence[str], what: str) -> list[int]:
    out: list[int] = []
    for item in spec:
        for tok in item.split(","):
            tok = tok.strip()
            if not tok:
                continue
            try:
                out.append(int(tok, 0))
            except ValueError:
                raise UsageError(f"{what}: {tok!r} is not an integer") from None
    return out


def parse_sizes(spec: Sequence[str], minimum: int = 2) -> list[int]:
    """Group sizes N, comma-separated, each an integer ≥ ``minimum``, sorted, deduplicated."""
    sizes = parse_int_list(spec, "--sizes")
    if not sizes:
        raise UsageError("--sizes: give at least one group size, e.g. --sizes 2,32,1024")
    bad = [n for n in sizes if n < minimum]
    if bad:
        raise UsageError(f"--sizes: group sizes must be integers >= {minimum}, got {bad[0]}")
    return sorted(set(sizes))


def check_out_dir(out: str | Path) -> Path:
    """``out`` if it is (or can be created as) a writable directory. Checked by trying —
    permission bits say nothing to root or on read-only mounts: a probe file is written and
    removed, and folders that did not exist are created and removed again (nothing is left)."""
    p = Path(out)
    if p.exists() and not p.is_dir():
        raise UsageError(f"--out {out}: exists and is not a directory")
    top = p.absolute()
    while not top.parent.exists():
        top = top.parent
    created = not p.exists()
    if created and not top.parent.is_dir():
        raise UsageError(f"--out {out}: {top.parent} is not a directory")
    try:
        if created:
            p.mkdir(parents=True)
        fd, probe = tempfile.mkstemp(prefix=".mls-pq-probe-", dir=p)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        why = e.strerror or type(e).__name__
        raise UsageError(f"--out {out}: cannot {'create' if created else 'write to'} it ({why})") from None
    finally:
        if created and top.exists():
            shutil.rmtree(top, ignore_errors=True)
    return p


def fail(message: str, status: int = 2) -> int:
    """Print ``mls-pq: error: message`` on one line; return ``status``."""
    print(f"mls-pq: error: {message}", file=sys.stderr)
    return status


__all__ = ["ALIASES", "Parser", "UsageError", "check_out_dir", "fail", "parse_int_list", "parse_sizes",
           "parse_suites", "resolve_suite", "valid_suites_text"]
