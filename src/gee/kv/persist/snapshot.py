"""RDB snapshots of a running server: SAVE, BGSAVE in a forked child, save points, load on start.

A snapshot is written to ``temp-<pid>.rdb`` in ``dir``, fsynced, then renamed over
``dbfilename``, so a crash mid-write never leaves a torn file where the last good one was.
BGSAVE forks: the child sees the keyspace as it was at the fork (the kernel's copy-on-write
does what Redis relies on too), writes it and exits; the parent keeps serving and reaps the
child from the cron, which is also where save points (``save <seconds> <changes>``) fire.

``dirty`` (writes since start, in the keyspace) is never reset: the changes since the last
save are ``dirty - dirty_at_save``, and a BGSAVE credits only the writes made before its fork,
as Redis does.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from gee.kv.errors import RDBError
from gee.kv.keyspace import now_ms
from gee.kv.persist import rdb

if TYPE_CHECKING:
    from gee.kv.server import Server


def load_into(server: Server, path: Path) -> int:
    """Load the RDB file at ``path`` into the server's (empty) keyspace; return the key count.

    Keys whose deadline has passed are skipped, as a Redis master skips them. Raises RDBError
    (with the problem named) and OSError; a missing file is the caller's business.
    """
    data = path.read_bytes()
    config = server.config
    parsed = rdb.load(data, verify_checksum=config.values["rdbchecksum"] == "yes")
    dbs = server.keyspace.dbs
    now = now_ms()
    loaded = 0
    for entry in parsed.entries:
        if entry.db >= len(dbs):
            raise RDBError(f"the file selects DB {entry.db}; only {len(dbs)} are configured")
        if entry.expire_ms is not None and entry.expire_ms <= now:
            continue
        db = dbs[entry.db]
        db.data[entry.key] = entry.value
        if entry.expire_ms is not None:
            db.set_expire(entry.key, entry.expire_ms)
        if entry.idle is not None or entry.freq is not None:
            server.memory.loaded_access(db, entry.key, entry.idle, entry.freq)
        loaded += 1
    return loaded


class Snapshots:
    """The RDB state of one server: last save, the BGSAVE child, and the counters INFO shows."""

    def __init__(self, server: Server) -> None:
        self.server = server
        # The keyspace's dirty counter when the last successful save began.
        self.dirty_at_save = 0
        self.lastsave = int(time.time())
        self.last_status_ok = True
        self.last_bgsave_ok = True
        # The forked BGSAVE child: its pid, start time and the dirty counter at the fork.
        self.child_pid: int | None = None
        self.child_started = 0.0
        self.child_dirty = 0
        self.last_bgsave_seconds = -1
        self.bgsave_scheduled = False
        self.saves = 0
        # The last time a save was tried (Redis retries failed save points after 5 s).
        self.last_try = 0.0

    @property
    def path(self) -> Path:
        config = self.server.config
        return config.dir / config.values["dbfilename"]

    def changes(self) -> int:
        return self.server.keyspace.dirty - self.dirty_at_save

    def write(self, path: Path) -> None:
        """Write the keyspace to ``path`` atomically (temp file, fsync, rename)."""
        config = self.server.config
        tmp = path.with_name(f"temp-{os.getpid()}.rdb")
        aux = {
            b"redis-ver": b"7.0.15",
            b"redis-bits": b"64",
            b"ctime": b"%d" % int(time.time()),
            b"used-mem": b"0",
            b"aof-base": b"0",
        }
        databases = [(db.index, db.data, db.expires) for db in self.server.keyspace.dbs]
        idle, freq = self.server.memory.saved_access()
        try:
            with open(tmp, "wb") as f:
                rdb.dump(
                    f,
                    databases,
                    aux=aux,
                    compress=config.values["rdbcompression"] == "yes",
                    checksum=config.values["rdbchecksum"] == "yes",
                    idle=idle,
                    freq=freq,
                )
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise

    def save(self) -> bool:
        """SAVE: write the snapshot in the foreground; return whether it succeeded."""
        server = self.server
        dirty = server.keyspace.dirty
        self.last_try = time.time()
        try:
            self.write(self.path)
        except OSError as exc:
            server.log(f"Failed opening the temp RDB file for saving: {exc}", "#")
            self.last_status_ok = False
            return False
        self.dirty_at_save = dirty
        self.lastsave = int(time.time())
        self.last_status_ok = True
        self.saves += 1
        server.log("DB saved on disk")
        if not self.last_bgsave_ok:  # a good save lifts -MISCONF, as Redis's rdbSave
            self.last_bgsave_ok = True
            server.update_paths()
        return True

    def bgsave(self) -> bool:
        """Fork a child that writes the snapshot; return False if the fork failed."""
        server = self.server
        self.last_try = time.time()
        path = self.path
        try:
            pid = os.fork()
        except OSError as exc:
            server.log(f"Can't save in background: fork: {exc}", "#")
            self.last_bgsave_ok = False
            server.update_paths()
            return False
        if pid == 0:  # the child: write and leave without running any parent cleanup
            code = 1
            try:
                self.write(path)
                code = 0
            finally:
                os._exit(code)
        self.child_pid = pid
        self.child_started = time.time()
        self.child_dirty = server.keyspace.dirty
        self.bgsave_scheduled = False
        server.log(f"Background saving started by pid {pid}")
        return True

    def reap(self) -> None:
        """Collect a finished BGSAVE child (from the cron) and record how it went."""
        pid = self.child_pid
        if pid is None:
            return
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # pragma: no cover  (someone else reaped it)
            done, status = pid, 1 << 8
        if done == 0:
            return
        self.child_pid = None
        self.last_bgsave_seconds = int(time.time() - self.child_started)
        ok = os.waitstatus_to_exitcode(status) == 0
        changed = ok != self.last_bgsave_ok
        self.last_bgsave_ok = ok
        self.last_status_ok = ok
        if changed:  # -MISCONF starts or stops (stop-writes-on-bgsave-error)
            self.server.update_paths()
        if ok:
            self.dirty_at_save = self.child_dirty
            self.lastsave = int(time.time())
            self.saves += 1
            self.server.log("Background saving terminated with success")
        else:
            self.server.log("Background saving error", "#")

    def wait_child(self) -> None:
        """Block until the BGSAVE child (if any) exits; used by SAVE-at-shutdown and tests."""
        pid = self.child_pid
        if pid is not None:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            self.child_pid = None

    def kill_child(self) -> None:
        """Stop a running BGSAVE child and reap it (SHUTDOWN, FLUSHALL do this in Redis)."""
        pid = self.child_pid
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)
            self.wait_child()
            with contextlib.suppress(OSError):
                (self.server.config.dir / f"temp-{pid}.rdb").unlink()

    def save_points(self) -> list[tuple[int, int]]:
        words = self.server.config.values["save"].split()
        return [(int(words[i]), int(words[i + 1])) for i in range(0, len(words) - 1, 2)]

    def cron(self) -> None:
        """Reap the child, run a scheduled BGSAVE, and fire a save point that is due."""
        self.reap()
        aof = self.server.aof
        if self.child_pid is not None or (aof is not None and aof.rewrite_pid is not None):
            return
        if self.bgsave_scheduled:
            self.bgsave()
            return
        changes = self.changes()
        if not changes:
            return
        now = time.time()
        for seconds, needed in self.save_points():
            if (
                changes >= needed
                and now - self.lastsave > seconds
                and (self.last_status_ok or now - self.last_try > 5)
            ):
                self.server.log(f"{needed} changes in {seconds} seconds. Saving...")
                self.bgsave()
                return
