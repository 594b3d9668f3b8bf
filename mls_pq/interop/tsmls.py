"""A live ts-mls peer: installs ts-mls from npm and drives it over a JSON-lines pipe.

ts-mls (https://github.com/LukaJCB/ts-mls) is a TypeScript MLS (RFC 9420)
implementation. :class:`TsMlsPeer` starts ``node driver.mjs`` (shipped next to this
module in ``ts_mls/``) and offers one Python method per driver operation. The driver
keeps every group in the Node process, addressed by opaque string handles; all
messages cross the pipe as RFC 9420 ``MLSMessage`` bytes (§6), so a ts-mls group can
exchange them with any other implementation.

Installation happens on first use: ``package.json`` and ``package-lock.json`` (which
pin ts-mls and its optional crypto peers to exact versions) are copied into a cache
directory and ``npm ci`` installs them there. The default cache directory is
``~/.cache/mls-pq/ts-mls-<version>`` (``$XDG_CACHE_HOME`` honoured); the environment
variable ``MLS_PQ_TSMLS_CACHE`` replaces it. ``MLS_PQ_NODE`` and ``MLS_PQ_NPM`` name
the executables if they are not ``node`` / ``npm`` on ``PATH``. A stamp file records
the lock file's hash, so a changed lock re-installs; a lock file serialises
concurrent installers.

ts-mls applies a commit to its own state as soon as it creates it (no pending-commit
step); by default the driver keeps that new state at once, so the committer must not
process its own commit. Pass ``pending=True`` to keep it aside and then call
:meth:`TsMlsPeer.merge_pending` or :meth:`TsMlsPeer.discard_pending`.

This module is hand-written glue (no library does it); the MLS work is ts-mls's.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

from ..errors import MLSError

__all__ = [
    "DRIVER_DIR",
    "AddResult",
    "InteropError",
    "NodeNotFoundError",
    "PassiveReplay",
    "PeerError",
    "ProcessResult",
    "TsMlsInstallError",
    "TsMlsPeer",
    "cache_dir",
    "ensure_installed",
    "find_node",
    "tsmls_version",
]

#: Directory holding driver.mjs, package.json and package-lock.json (package data).
DRIVER_DIR = Path(__file__).resolve().parent / "ts_mls"
_FILES = ("driver.mjs", "package.json", "package-lock.json")
_STAMP = ".mls-pq-install.json"
_MIN_NODE_MAJOR = 20  # ts-mls 1.6 README: "Node.js 20+ is required"
_PROTOCOL = 1


class InteropError(MLSError):
    """The external interop peer could not be set up or talked to."""


class NodeNotFoundError(InteropError):
    """Node.js (or npm) is missing or too old."""


class TsMlsInstallError(InteropError):
    """``npm ci`` of ts-mls into the cache directory failed."""


class PeerError(InteropError):
    """The driver answered a request with an error (ts-mls refused it, or a bad request).

    ``error_type`` is the JavaScript class name, e.g. ``ValidationError``,
    ``CryptoVerificationError`` (ts-mls) or ``DriverError`` (malformed request).
    """

    def __init__(self, op: str, message: str, error_type: str = "Error") -> None:
        self.op = op
        self.error_type = error_type
        self.detail = message
        super().__init__(f"ts-mls {op}: {error_type}: {message}")


# ---------------------------------------------------------------- installation


def tsmls_version() -> str:
    """The exact ts-mls version pinned in the shipped package.json."""
    data = json.loads((DRIVER_DIR / "package.json").read_text(encoding="utf-8"))
    return str(data["dependencies"]["ts-mls"])


def cache_dir() -> Path:
    """Where ts-mls gets installed: ``$MLS_PQ_TSMLS_CACHE`` or ``~/.cache/mls-pq/ts-mls-<version>``."""
    override = os.environ.get("MLS_PQ_TSMLS_CACHE")
    if override:
        return Path(override).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "mls-pq" / f"ts-mls-{tsmls_version()}"


def _which(env: str, name: str) -> str | None:
    explicit = os.environ.get(env)
    if explicit:
        return explicit if Path(explicit).exists() else shutil.which(explicit)
    return shutil.which(name)


def find_node() -> str:
    """Path of a usable ``node`` (>= 20); raises :class:`NodeNotFoundError` otherwise."""
    node = _which("MLS_PQ_NODE", "node")
    if node is None:
        raise NodeNotFoundError(
            "Node.js was not found on PATH (set MLS_PQ_NODE to its path); "
            f"the ts-mls interop peer needs node >= {_MIN_NODE_MAJOR} and npm"
        )
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30, check=True).stdout
        major = int(out.strip().lstrip("v").split(".")[0])
    except (OSError, subprocess.SubprocessError, ValueError) as e:
        raise NodeNotFoundError(f"could not run {node} --version: {e}") from None
    if major < _MIN_NODE_MAJOR:
        raise NodeNotFoundError(f"{node} is {out.strip()}; ts-mls needs node >= {_MIN_NODE_MAJOR}")
    return node


def _lock_digest() -> str:
    h = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        h.update((DRIVER_DIR / name).read_bytes())
    return h.hexdigest()


def _write_if_changed(src: Path, dst: Path) -> None:
    data = src.read_bytes()
    if dst.exists() and dst.read_bytes() == data:
        return
    fd, tmp = tempfile.mkstemp(dir=dst.parent, prefix=f".{dst.name}.")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, dst)


@contextlib.contextmanager
def _install_lock(directory: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no cross-process lock, best effort
        yield
        return
    with open(directory / ".install.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _installed(directory: Path, digest: str) -> bool:
    try:
        stamp = json.loads((directory / _STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(
        stamp.get("lock_sha256") == digest and (directory / "node_modules" / "ts-mls" / "package.json").exists()
    )


def ensure_installed(directory: Path | None = None, *, timeout: float = 900.0) -> Path:
    """Install the pinned ts-mls with ``npm ci`` into ``directory`` (default :func:`cache_dir`) once.

    Returns the directory, which then holds ``driver.mjs`` and ``node_modules``. The
    driver file is refreshed on every call (cheap), the packages only when the lock
    file changed. Raises :class:`NodeNotFoundError` or :class:`TsMlsInstallError`.
    """
    target = (directory or cache_dir()).resolve()
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise TsMlsInstallError(f"cannot create the ts-mls cache directory {target}: {e}") from None
    digest = _lock_digest()
    with _install_lock(target):
        _write_if_changed(DRIVER_DIR / "driver.mjs", target / "driver.mjs")
        if _installed(target, digest):
            return target
        find_node()
        npm = _which("MLS_PQ_NPM", "npm")
        if npm is None:
            raise NodeNotFoundError("npm was not found on PATH (set MLS_PQ_NPM); it installs ts-mls on first use")
        for name in ("package.json", "package-lock.json"):
            _write_if_changed(DRIVER_DIR / name, target / name)
        (target / _STAMP).unlink(missing_ok=True)
        cmd = [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"]
        try:
            proc = subprocess.run(cmd, cwd=target, capture_output=True, text=True, timeout=timeout, check=False)
        except (OSError, subprocess.SubprocessError) as e:
            raise TsMlsInstallError(f"`npm ci` in {target} could not run: {e}") from None
        if proc.returncode != 0:
            lines = (proc.stderr or proc.stdout).strip().splitlines()
            shown = lines if len(lines) <= 20 else [*lines[:12], "...", *lines[-6:]]
            raise TsMlsInstallError(
                f"`npm ci` of ts-mls {tsmls_version()} in {target} failed (exit {proc.returncode}):\n"
                + "\n".join(shown)
            )
        if not (target / "node_modules" / "ts-mls" / "package.json").exists():
            raise TsMlsInstallError(f"`npm ci` in {target} succeeded but node_modules/ts-mls is missing")
        (target / _STAMP).write_text(
            json.dumps({"lock_sha256": digest, "ts_mls": tsmls_version()}) + "\n", encoding="utf-8"
        )
    return target


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class AddResult:
    """Output of :meth:`TsMlsPeer.add`: all values are ``MLSMessage`` bytes except ``ratchet_tree``."""

    commit: bytes
    welcome: bytes
    ratchet_tree: bytes  #: the new epoch's ``ratchet_tree`` extension data (RFC 9420 §12.4.3.3)
    epoch: int
    group_info: bytes | None = None


@dataclass(frozen=True)
class ProcessResult:
    """Output of :meth:`TsMlsPeer.process`."""

    kind: str  #: "commit", "application" or "proposal"
    epoch: int
    active: bool = True  #: False once a commit removed this member
    data: bytes | None = field(default=None, repr=False)  #: application data for kind "application"


@dataclass(frozen=True)
class PassiveReplay:
    """Output of :meth:`TsMlsPeer.passive_client`: what ts-mls computed replaying a
    passive-client test vector (mlswg test-vectors.md "Passive Client Scenarios").

    ``checks`` says whether ts-mls proved each imported private key belongs to the
    KeyPackage (``signature``: sign/verify; ``init``, ``encryption``: HPKE seal/open).
    ``epochs`` holds (epoch, epoch_authenticator) after each processed commit; ``failure``
    is set when ts-mls refused a step: ``(where, error_type, message)`` with ``where`` like
    ``"welcome"`` or ``"epochs[3].commit"``. ``handle`` is the ts-mls group after the
    replay (None after a failure).
    """

    checks: dict[str, bool]
    initial_epoch_authenticator: bytes | None
    epochs: list[tuple[int, bytes]]
    failure: tuple[str, str, str] | None = None
    handle: str | None = None


def _h(b: bytes) -> str:
    return bytes(b).hex()


def _b(s: Any, what: str) -> bytes:
    try:
        return bytes.fromhex(s)
    except (TypeError, ValueError):
        raise InteropError(f"driver returned a non-hex {what}") from None


# ---------------------------------------------------------------- peer


class TsMlsPeer:
    """A ts-mls instance in a Node subprocess. Use as a context manager.

    >>> with TsMlsPeer() as peer:                                   # doctest: +SKIP
    ...     kp, kp_handle = peer.key_package(1, b"bob")
    ...     alice = peer.create_group(1, b"group", b"alice")
    ...     added = peer.add(alice, kp)
    ...     bob = peer.join(kp_handle, added.welcome)
    """

    def __init__(self, *, install_dir: Path | None = None, timeout: float = 120.0) -> None:
        self._install_dir = install_dir
        self.timeout = timeout
        self._proc: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stderr: IO[str] | None = None
        self._next_id = 0
        self.info: dict[str, Any] = {}

    # -- lifecycle

    def start(self) -> Self:
        """Install ts-mls if needed and start the driver; idempotent."""
        if self._proc is not None:
            return self
        node = find_node()
        directory = ensure_installed(self._install_dir)
        # kept open for the driver's lifetime (closed in close()), read on failures
        self._stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115
        try:
            self._proc = subprocess.Popen(
                [node, str(directory / "driver.mjs")],
                cwd=directory,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                text=True,
                encoding="utf-8",
                bufsize=1,
            )
        except OSError as e:
            raise NodeNotFoundError(f"could not start {node}: {e}") from None
        threading.Thread(target=self._pump, args=(self._proc.stdout,), daemon=True).start()
        self.info = self._call("hello")
        if self.info.get("protocol") != _PROTOCOL:
            self.close()
            raise InteropError(f"driver speaks protocol {self.info.get('protocol')!r}, expected {_PROTOCOL}")
        return self

    def close(self) -> None:
        """Stop the driver (all handles become invalid)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if proc.stdin is not None:
                proc.stdin.close()
            proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()
        finally:
            if self._stderr is not None:
                self._stderr.close()
                self._stderr = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _pump(self, stream: IO[str] | None) -> None:
        assert stream is not None
        for line in stream:
            self._lines.put(line)
        self._lines.put(None)

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return "\n".join(self._stderr.read().strip().splitlines()[-20:])

    def _call(self, op: str, **params: Any) -> dict[str, Any]:
        proc = self._proc
        if proc is None or proc.stdin is None:
            raise InteropError("the ts-mls peer is not running (use it as a context manager or call start())")
        self._next_id += 1
        rid = self._next_id
        request = {k: v for k, v in params.items() if v is not None}
        request.update(op=op, id=rid)
        try:
            proc.stdin.write(json.dumps(request) + "\n")
            proc.stdin.flush()
        except OSError:
            raise InteropError(f"the ts-mls driver died; stderr:\n{self._stderr_tail()}") from None
        while True:
            try:
                line = self._lines.get(timeout=self.timeout)
            except queue.Empty:
                raise InteropError(f"ts-mls {op}: no answer within {self.timeout:.0f} s") from None
            if line is None:
                self._lines.put(None)
                raise InteropError(f"the ts-mls driver exited during {op}; stderr:\n{self._stderr_tail()}")
            try:
                response = json.loads(line)
            except ValueError:
                raise InteropError(f"ts-mls {op}: driver wrote a non-JSON line") from None
            if response.get("id") == rid:
                break
        if "error" in response:
            raise PeerError(op, str(response["error"]), str(response.get("error_type", "Error")))
        response.pop("id", None)
        return dict(response)

    # -- operations

    def suites(self) -> list[int]:
        """Cipher suite ids whose implementation ts-mls can load with the installed packages."""
        return [int(s) for s in self._call("suites")["suites"]]

    def suite_names(self) -> dict[int, str]:
        """ts-mls's names of the loadable suites."""
        return {int(k): str(v) for k, v in self._call("suites")["names"].items()}

    def key_package(self, suite: int, identity: bytes) -> tuple[bytes, str]:
        """A fresh KeyPackage (``MLSMessage`` bytes) with a basic credential, and its handle."""
        r = self._call("key_package", suite=suite, identity=_h(identity))
        return _b(r["key_package"], "key_package"), str(r["handle"])

    def create_group(self, suite: int, group_id: bytes, identity: bytes, *, wire_format: str = "private") -> str:
        """A one-member group; ``wire_format`` ("private"/"public") frames its handshake messages."""
        return str(
            self._call(
                "create_group", suite=suite, group_id=_h(group_id), identity=_h(identity), wire_format=wire_format
            )["handle"]
        )

    def add(
        self,
        handle: str,
        key_package: bytes | Sequence[bytes],
        *,
        ratchet_tree_extension: bool = True,
        group_info: bool = False,
        wire_format: str | None = None,
        pending: bool = False,
    ) -> AddResult:
        """Commit Add proposals for one or several KeyPackages (``MLSMessage`` bytes); applied at once."""
        kps = [key_package] if isinstance(key_package, (bytes, bytearray)) else list(key_package)
        r = self._call(
            "add",
            handle=handle,
            key_packages=[_h(k) for k in kps],
            ratchet_tree_extension=ratchet_tree_extension,
            group_info=group_info,
            wire_format=wire_format,
            pending=pending,
        )
        return AddResult(
            commit=_b(r["commit"], "commit"),
            welcome=_b(r["welcome"], "welcome"),
            ratchet_tree=_b(r["ratchet_tree"], "ratchet_tree"),
            epoch=int(r["epoch"]),
            group_info=_b(r["group_info"], "group_info") if r.get("group_info") else None,
        )

    def join(
        self,
        key_package_handle: str,
        welcome: bytes,
        ratchet_tree: bytes | None = None,
        *,
        wire_format: str = "private",
    ) -> str:
        """Join from a Welcome (``MLSMessage`` bytes) with the private keys behind ``key_package_handle``.

        ``ratchet_tree`` (the extension's data) is needed when the Welcome's GroupInfo has none.
        """
        r = self._call(
            "join",
            key_package_handle=key_package_handle,
            welcome=_h(welcome),
            ratchet_tree=_h(ratchet_tree) if ratchet_tree is not None else None,
            wire_format=wire_format,
        )
        return str(r["handle"])

    def commit(
        self,
        handle: str,
        *,
        update_path: bool = True,
        ratchet_tree_extension: bool = False,
        wire_format: str | None = None,
        pending: bool = False,
    ) -> bytes:
        """Commit the pending proposals (none: an empty commit, which always has an UpdatePath)."""
        r = self._call(
            "commit",
            handle=handle,
            update_path=update_path,
            ratchet_tree_extension=ratchet_tree_extension,
            wire_format=wire_format,
            pending=pending,
        )
        return _b(r["commit"], "commit")

    def remove(
        self, handle: str, leaf_index: int | Sequence[int], *, wire_format: str | None = None, pending: bool = False
    ) -> bytes:
        """Commit Remove proposals for the given leaf index(es)."""
        leaves = [leaf_index] if isinstance(leaf_index, int) else list(leaf_index)
        r = self._call("remove", handle=handle, leaf_indices=leaves, wire_format=wire_format, pending=pending)
        return _b(r["commit"], "commit")

    def propose_add(self, handle: str, key_package: bytes, *, wire_format: str | None = None) -> bytes:
        """A standalone Add proposal message."""
        return _b(
            self._call("propose", handle=handle, proposal="add", key_package=_h(key_package), wire_format=wire_format)[
                "message"
            ],
            "message",
        )

    def propose_remove(self, handle: str, leaf_index: int, *, wire_format: str | None = None) -> bytes:
        """A standalone Remove proposal message."""
        return _b(
            self._call("propose", handle=handle, proposal="remove", leaf_index=leaf_index, wire_format=wire_format)[
                "message"
            ],
            "message",
        )

    def process(self, handle: str, message: bytes) -> ProcessResult:
        """Process a PublicMessage/PrivateMessage (``MLSMessage`` bytes) from another member."""
        r = self._call("process", handle=handle, message=_h(message))
        data = _b(r["data"], "data") if r.get("data") is not None else None
        return ProcessResult(kind=str(r["kind"]), epoch=int(r["epoch"]), active=bool(r.get("active", True)), data=data)

    def protect(self, handle: str, data: bytes, *, authenticated_data: bytes | None = None) -> bytes:
        """An application message (PrivateMessage as ``MLSMessage`` bytes)."""
        r = self._call(
            "protect",
            handle=handle,
            data=_h(data),
            authenticated_data=_h(authenticated_data) if authenticated_data is not None else None,
        )
        return _b(r["message"], "message")

    def export(self, handle: str, label: str, context: bytes, length: int) -> bytes:
        """MLS-Exporter(label, context, length) of the current epoch (RFC 9420 §8.5)."""
        r = self._call("export", handle=handle, label=label, context=_h(context), length=length)
        return _b(r["secret"], "secret")

    def epoch_authenticator(self, handle: str) -> tuple[bytes, int]:
        """The current epoch_authenticator (RFC 9420 §8.7) and the epoch number."""
        r = self._call("epoch_authenticator", handle=handle)
        return _b(r["value"], "value"), int(r["epoch"])

    def state(self, handle: str) -> dict[str, Any]:
        """A JSON summary: epoch, group_id, cipher_suite, tree_hash, confirmed_transcript_hash, members, ..."""
        return self._call("state", handle=handle)

    def group_info(self, handle: str) -> bytes:
        """A signed GroupInfo (``MLSMessage``) with external_pub and ratchet_tree extensions."""
        return _b(self._call("group_info", handle=handle)["group_info"], "group_info")

    def ratchet_tree(self, handle: str) -> bytes:
        """The current ratchet tree in the ``ratchet_tree`` extension encoding."""
        return _b(self._call("ratchet_tree", handle=handle)["ratchet_tree"], "ratchet_tree")

    def merge_pending(self, handle: str) -> int:
        """Adopt the commit kept aside with ``pending=True``; returns the new epoch."""
        return int(self._call("merge_pending", handle=handle)["epoch"])

    def discard_pending(self, handle: str) -> int:
        """Drop the commit kept aside with ``pending=True``; returns the (unchanged) epoch."""
        return int(self._call("discard_pending", handle=handle)["epoch"])

    def free(self, handle: str) -> bool:
        """Forget a handle in the driver."""
        return bool(self._call("free", handle=handle)["freed"])

    def primitive(self, suite: int, fn: str, **params: bytes | int) -> dict[str, Any]:
        """Call one raw primitive of a suite's ts-mls ``CiphersuiteImpl``.

        ``fn`` is one of info, digest, mac, extract, expand, aead_seal, derive_key_pair,
        hpke_seal, sign (see driver.mjs for the parameters). ``bytes`` arguments are
        sent as hex; byte-valued results come back as ``bytes``, "info" as plain JSON.
        """
        sent = {k: _h(v) if isinstance(v, (bytes, bytearray)) else v for k, v in params.items()}
        r = self._call("primitive", suite=suite, fn=fn, **sent)
        if fn == "info":
            return r
        return {k: _b(v, k) for k, v in r.items()}

    def import_key_package(
        self, key_package: bytes, *, init_priv: bytes, encryption_priv: bytes, signature_priv: bytes
    ) -> tuple[str, dict[str, bool]]:
        """A key_package handle (for :meth:`join`) from another implementation's KeyPackage
        (``MLSMessage`` bytes) and its raw private keys; returns (handle, checks), where
        ``checks`` says whether ts-mls proved each private key belongs to the KeyPackage."""
        r = self._call(
            "import_key_package",
            key_package=_h(key_package),
            init_priv=_h(init_priv),
            encryption_priv=_h(encryption_priv),
            signature_priv=_h(signature_priv),
        )
        return str(r["handle"]), {str(k): bool(v) for k, v in r["checks"].items()}

    def passive_client(self, case: dict[str, Any]) -> PassiveReplay:
        """Replay one passive-client test-vector case (the JSON object, hex strings as in
        the file) through ts-mls: import the KeyPackage private keys, join from the Welcome
        (with ``ratchet_tree`` and ``external_psks`` if given), then process each epoch's
        proposals and commit. The vector's expected values are not sent: compare them with
        the result."""
        r = self._call(
            "passive_client",
            key_package=case["key_package"],
            init_priv=case["init_priv"],
            encryption_priv=case["encryption_priv"],
            signature_priv=case["signature_priv"],
            welcome=case["welcome"],
            ratchet_tree=case.get("ratchet_tree"),
            external_psks=[{"psk_id": e["psk_id"], "psk": e["psk"]} for e in case.get("external_psks") or ()],
            epochs=[{"proposals": list(e.get("proposals") or ()), "commit": e["commit"]} for e in case["epochs"]],
        )
        failure = r.get("failure")
        initial = r.get("initial_epoch_authenticator")
        return PassiveReplay(
            checks={str(k): bool(v) for k, v in r["checks"].items()},
            initial_epoch_authenticator=_b(initial, "initial_epoch_authenticator") if initial is not None else None,
            epochs=[(int(e["epoch"]), _b(e["epoch_authenticator"], "epoch_authenticator")) for e in r["epochs"]],
            failure=(str(failure["at"]), str(failure["error_type"]), str(failure["error"])) if failure else None,
            handle=str(r["handle"]) if r.get("handle") else None,
        )

    def external_psk(self, handle: str, psk_id: bytes, psk: bytes) -> int:
        """Store an external PSK (RFC 9420 §8.4) with a group: its commits and processing then
        find it by ``psk_id``. Returns how many external PSKs the group holds."""
        return int(self._call("external_psk", handle=handle, psk_id=_h(psk_id), psk=_h(psk))["count"])

    def commit_psk(
        self,
        handle: str,
        psk_id: bytes,
        *,
        psk_nonce: bytes | None = None,
        wire_format: str | None = None,
        pending: bool = False,
    ) -> tuple[bytes, bytes]:
        """Commit a PreSharedKey proposal for the external PSK ``psk_id`` by value (plus any
        received proposals by reference). Returns (commit, psk_nonce); the nonce is KDF.Nh
        random octets unless given. ts-mls sends no UpdatePath for a PSK-only commit."""
        r = self._call(
            "commit_psk",
            handle=handle,
            psk_id=_h(psk_id),
            psk_nonce=_h(psk_nonce) if psk_nonce is not None else None,
            wire_format=wire_format,
            pending=pending,
        )
        return _b(r["commit"], "commit"), _b(r["psk_nonces"][0], "psk_nonce")

    def join_external(
        self,
        suite: int,
        identity: bytes,
        group_info: bytes,
        *,
        ratchet_tree: bytes | None = None,
        wire_format: str = "private",
    ) -> tuple[str, bytes]:
        """Join by an external commit (RFC 9420 §12.4.3.2) from a GroupInfo (``MLSMessage``
        bytes) with a fresh basic-credential KeyPackage. Returns (group handle, the commit's
        ``MLSMessage`` bytes, a PublicMessage to send to the group)."""
        r = self._call(
            "join_external",
            suite=suite,
            identity=_h(identity),
            group_info=_h(group_info),
            ratchet_tree=_h(ratchet_tree) if ratchet_tree is not None else None,
            wire_format=wire_format,
        )
        return str(r["handle"]), _b(r["commit"], "commit")

    def raw(self, op: str, **params: Any) -> dict[str, Any]:
        """Send any request (for protocol tests); values are passed through as JSON."""
        return self._call(op, **params)
