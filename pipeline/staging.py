"""Write a database while others read it: a staging copy published atomically.

DuckDB lets a file be open by many read-only connections or by one read-write
one. A command that writes (ingest, renormalize, remove) therefore never opens
FILE itself: it

1. takes an exclusive lock on `FILE.lock` (flock), so two writers never run at
   once: a second one waits, with a message, up to `wait` seconds;
2. waits (likewise) while another program holds FILE read-write (a DuckDB CLI,
   DBeaver, a notebook: DuckDB holds an exclusive fcntl lock on the file then,
   a shared one for a read-only connection), since the copy would miss its
   writes or the publish would discard them;
3. copies FILE (and a leftover FILE.wal) to `FILE.staging` beside it, and
   writes there;
4. publishes: CHECKPOINT, close, fsync, os.replace over FILE, fsync the folder;
   at the end of the run, and during a long run every `publish_every` seconds
   (between write transactions, so only whole documents), then copies the
   published file back to staging to go on writing.

A reader opens FILE read-only at any time and keeps the state it opened (the
replaced file lives on while it is open); opened after a publish, it sees the
new state. A writer killed mid-run leaves FILE as last published and a stale
staging file, which the next writer replaces.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import signal
import struct
import threading
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from pipeline.errors import NoticeError, StoreError

# How long a writer waits for another writer, or for a read-write connection of another program,
# before it gives up with one line. Five minutes: an analyst who reads the message has time to close
# DBeaver's connection or let a short renormalize finish; a scheduled run that meets a forgotten
# connection or a long ingest fails instead of hanging for good. --wait changes it (0: fail at once).
WAIT_SECONDS = 300.0
# During a long ingest, the documents written so far are published this often (seconds) ...
PUBLISH_EVERY_SECONDS = 60.0
# ... but never more often than this many times the last publish's cost: on a large database a publish
# (a copy and an fsync of the whole file) then stays under a tenth of the run.
PUBLISH_COST_FACTOR = 10.0
_POLL_SECONDS = 0.1

Say = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def lock_path(db: Path) -> Path:
    return Path(f"{db}.lock")


def staging_path(db: Path) -> Path:
    return Path(f"{db}.staging")


# --- who holds what ---------------------------------------------------------------


def _process_name(pid: int) -> str:
    try:
        return Path(os.readlink(f"/proc/{pid}/exe")).name
    except OSError:
        return "a process"


def read_write_holder(db: Path) -> int | None:
    """The PID of a process holding `db` read-write (DuckDB's exclusive fcntl lock), or None.
    0 when one holds it but the system does not say which (another host over NFS)."""
    try:
        fd = os.open(db, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        probe = struct.pack("hhqqi", fcntl.F_RDLCK, os.SEEK_SET, 0, 0, 0)
        kind, _, _, _, pid = struct.unpack("hhqqi", fcntl.fcntl(fd, fcntl.F_GETLK, probe))
        return None if kind == fcntl.F_UNLCK else pid
    finally:
        os.close(fd)


@contextlib.contextmanager
def _no_read_write_holder(db: Path, wait: float, say: Say, doing: str) -> Iterator[None]:
    """Hold a shared lock on `db` (what a read-only DuckDB connection takes) while the block runs:
    readers may still open it, a read-write connection may not. Waits up to `wait` seconds for a
    read-write holder to let go. An open-file-description lock: closing it cannot drop a lock
    DuckDB holds on the same file in this process."""
    deadline = time.monotonic() + wait
    told = False
    while True:
        try:
            fd = os.open(db, os.O_RDONLY)
        except FileNotFoundError:
            yield  # nothing published yet: nobody can hold it
            return
        try:
            _shared_lock(fd)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EACCES, errno.EAGAIN):
                raise
            pid = read_write_holder(db)
            who = f"{_process_name(pid)}, PID {pid}" if pid else "another process"
            if time.monotonic() >= deadline:
                raise StoreError(
                    f"the database is open in another process ({who}) read-write: a DuckDB CLI, DBeaver or "
                    f"notebook; close it there (read while an ingest runs with read_only=True) and run the command "
                    f"again, or give --wait SECONDS (waited {wait:.0f} s)",
                    path=str(db),
                ) from None
            if not told:
                say(f"{db}: waiting up to {wait:.0f} s for {who} to close its read-write connection before {doing} "
                    "(close it there, or connect with read_only=True)")
                told = True
            time.sleep(_POLL_SECONDS)
            continue
        try:
            yield
        finally:
            os.close(fd)
        return


def _shared_lock(fd: int) -> None:
    lock = struct.pack("hhqqi", fcntl.F_RDLCK, os.SEEK_SET, 0, 0, 0)
    fcntl.fcntl(fd, getattr(fcntl, "F_OFD_SETLK", fcntl.F_SETLK), lock)


class WriterLock:
    """`FILE.lock`, held by the one command writing FILE; it names its PID for the others."""

    def __init__(self, db: Path, wait: float, say: Say):
        self.path = lock_path(Path(os.path.realpath(db)))  # one lock for the file, whatever link names it
        self.db, self.wait, self.say = db, wait, say
        self.fd: int | None = None

    def __enter__(self) -> WriterLock:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise StoreError(
                f"cannot create {self.path.name} beside the database ({exc.strerror}); a command that writes "
                "needs a folder it may write to: check its permissions or choose another --db",
                path=str(self.db),
            ) from exc
        deadline = time.monotonic() + self.wait
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _read_holder(fd)
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise StoreError(
                        f"another notices command is writing this database ({holder}); run this one when it has "
                        f"finished, or give --wait SECONDS (waited {self.wait:.0f} s)",
                        path=str(self.db),
                    ) from None
                if not told:
                    self.say(f"{self.db}: waiting up to {self.wait:.0f} s for {holder}, which is writing it "
                             "(readers are not held up)")
                    told = True
                time.sleep(_POLL_SECONDS)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {' '.join(Path(a).name for a in sys.argv[:2])}\n".encode(), 0)
        self.fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            os.close(self.fd)  # releases the flock; the file stays (deleting it would race a waiting writer)
            self.fd = None


def _read_holder(fd: int) -> str:
    try:
        text = os.pread(fd, 200, 0).decode(errors="replace").strip()
        pid, _, command = text.partition(" ")
        return f"PID {int(pid)}" + (f": {command}" if command else "")
    except (OSError, ValueError):
        return "another process"


# --- copying and publishing ---------------------------------------------------------


def _copy(source: Path, target: Path, db: Path) -> None:
    """Copy a database file (in the kernel where it can: copy_file_range shares blocks on
    file systems that support it); a full disk is one line naming the database."""
    try:
        with open(source, "rb") as src, open(target, "wb") as dst:
            size = os.fstat(src.fileno()).st_size
            copied = 0
            try:
                while copied < size:
                    n = os.copy_file_range(src.fileno(), dst.fileno(), size - copied)
                    if n == 0:
                        break
                    copied += n
            except OSError as exc:
                if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
                    raise
                src.seek(copied)
                dst.seek(copied)
                shutil.copyfileobj(src, dst, 1 << 20)
        shutil.copymode(source, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            target.unlink()
        raise StoreError(
            f"cannot write the database ({exc.strerror}: a command that writes works on a copy beside it, "
            f"{source.stat().st_size / 2**20:.0f} MB); free space on the disk that holds it (or choose another "
            "--db) and run the same command again: every document stored before is kept",
            path=str(db),
        ) from exc


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        s = path.stat()
    except FileNotFoundError:
        return None
    return (s.st_ino, s.st_size, s.st_mtime_ns)


class Staged:
    """A database being written through its staging file: `store` writes there, `publish` makes
    what is committed the state readers of FILE see."""

    def __init__(self, db: Path, *, wait: float, publish_every: float, threads: int | None,
                 memory_limit_mb: int | None, say: Say):
        self.db = db
        # A database reached through a symlink is replaced where it lives (the link stays a link),
        # from a staging file in that folder (a rename is atomic only within one file system).
        self.real = Path(os.path.realpath(db))
        self.staging = staging_path(self.real)
        self.wait, self.publish_every, self.say = wait, publish_every, say
        self.threads, self.memory_limit_mb = threads, memory_limit_mb
        self.store = None
        self.published = _identity(db)  # FILE as this writer last saw it: another writer's change is caught
        self.carried_wal = False
        self.next_publish = float("inf")
        self.publishes: list[float] = []  # seconds each publish took

    # -- start -------------------------------------------------------------------

    def start(self) -> None:
        for leftover in (self.staging, Path(f"{self.staging}.wal")):
            leftover.unlink(missing_ok=True)  # a writer killed mid-run left it; FILE is what counts
        created = not self.db.exists()
        if not created:
            with _no_read_write_holder(self.db, self.wait, self.say, "copying it"):
                wal = Path(f"{self.db}.wal")
                # A WAL left by a program that crashed holds committed transactions: it goes along
                # (DuckDB replays it in the copy), and is dropped when the copy is published.
                if wal.exists():
                    _copy(wal, Path(f"{self.staging}.wal"), self.db)
                    self.carried_wal = True
                _copy(self.db, self.staging, self.db)
                self.published = _identity(self.db)
        self._open()
        if created:
            self.publish(keep_writing=True)  # readers find the empty database at once, not "no database"
        self.next_publish = time.monotonic() + self.publish_every

    def _open(self) -> None:
        from pipeline.store import Store

        try:
            # Reopened after a publish: with the memory limit the writer had raised to, if it did.
            limit = self.store.memory_limit_mb if self.store is not None else self.memory_limit_mb
            fresh = Store.open(self.staging, threads=self.threads, memory_limit_mb=limit)
        except NoticeError as exc:
            exc.path = str(self.db)  # the person knows FILE, not its staging copy
            raise
        fresh.path = str(self.db)
        if self.store is None:
            self.store = fresh
        else:  # same Store, new connection: its caches carry over
            self.store.con = fresh.con

    # -- publish -----------------------------------------------------------------

    def maybe_publish(self) -> None:
        """Publish when it is time (call between write transactions)."""
        if time.monotonic() >= self.next_publish:
            self.publish(keep_writing=True)

    def publish(self, *, keep_writing: bool) -> None:
        # Between closing the connection and reopening it, a Ctrl-C would leave no connection to
        # write with: it is taken after the publish.
        if threading.current_thread() is not threading.main_thread():
            return self._publish(keep_writing=keep_writing)
        caught: list = []
        previous = signal.signal(signal.SIGINT, lambda *_: caught.append(1))
        try:
            self._publish(keep_writing=keep_writing)
        finally:
            signal.signal(signal.SIGINT, previous)
        if caught:
            raise KeyboardInterrupt

    def _publish(self, *, keep_writing: bool) -> None:
        started = time.monotonic()
        con = self.store.con
        con.execute("CHECKPOINT")
        con.close()
        _fsync(self.staging)
        # A shared lock on the file being published, held until it is copied back for the rest of the
        # run: a read-write connection cannot open it meanwhile (readers can), so the copy is the
        # state published, and the disk holds two copies of the database, not three.
        guard = os.open(self.staging, os.O_RDONLY)
        try:
            _shared_lock(guard)
            with _no_read_write_holder(self.db, self.wait, self.say, "publishing"):
                if _identity(self.db) != self.published:
                    raise StoreError(
                        "another program changed the database while this command was writing it (a read-write "
                        "connection of a DuckDB CLI, DBeaver or notebook); its changes and this run's cannot both "
                        "be kept: nothing of this run was published; run the same command again",
                        path=str(self.db),
                    )
                os.replace(self.staging, self.real)
                if self.carried_wal:
                    Path(f"{self.db}.wal").unlink(missing_ok=True)
                    self.carried_wal = False
                dir_fd = os.open(self.real.parent, os.O_RDONLY)
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)
                self.published = _identity(self.db)
            if keep_writing:
                _copy(self.db, self.staging, self.db)
        finally:
            os.close(guard)
        if keep_writing:
            self._open()
        cost = time.monotonic() - started
        self.publishes.append(cost)
        self.next_publish = time.monotonic() + max(self.publish_every, PUBLISH_COST_FACTOR * cost)

    def discard(self) -> None:
        """Drop the staging file: FILE stays as last published."""
        if self.store is not None:
            with contextlib.suppress(Exception):
                self.store.con.close()
        for path in (self.staging, Path(f"{self.staging}.wal")):
            with contextlib.suppress(OSError):
                path.unlink()


@contextlib.contextmanager
def writing(
    db: str | Path,
    *,
    wait: float = WAIT_SECONDS,
    publish_every: float = PUBLISH_EVERY_SECONDS,
    threads: int | None = None,
    memory_limit_mb: int | None = None,
    say: Say | None = None,
) -> Iterator[Staged]:
    """Write the database `db` through a staging copy (see the module's notes). The block writes with
    `staged.store` and may call `staged.maybe_publish()` between transactions; at its end what is
    committed is published, also when it ends by Ctrl-C or an error in one document. An error of the
    disk or the database file publishes nothing (FILE stays as last published) and is raised as one
    line naming FILE."""
    from pipeline.store import as_store_error

    db = Path(db)
    if not db.parent.exists():
        raise StoreError(f"the folder {db.parent} does not exist; create it or choose another --db path", path=str(db))
    say = say or _stderr
    with WriterLock(db, wait, say):
        staged = Staged(db, wait=wait, publish_every=publish_every, threads=threads,
                        memory_limit_mb=memory_limit_mb, say=say)
        try:
            staged.start()
        except BaseException:
            staged.discard()
            raise
        try:
            yield staged
        except BaseException as exc:
            readable = exc if isinstance(exc, StoreError) else as_store_error(exc, str(db))
            if readable is not None:
                staged.discard()
                if readable is exc:
                    raise
                raise readable from exc
            try:
                staged.publish(keep_writing=False)  # what is committed is whole documents: keep it
            except BaseException:
                staged.discard()
                raise
            raise
        else:
            try:
                staged.publish(keep_writing=False)
            except BaseException as exc:
                staged.discard()
                readable = as_store_error(exc, str(db))
                if readable is not None:
                    raise readable from exc
                raise
