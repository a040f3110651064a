"""The reference server's state: datasets, jobs and batch files, in SQLite (in memory or on disk)."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS datasets (
    org TEXT NOT NULL, sandbox TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, created INTEGER NOT NULL,
    PRIMARY KEY (org, sandbox, id));
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY, org TEXT NOT NULL, sandbox TEXT NOT NULL, created INTEGER NOT NULL,
    request TEXT NOT NULL, request_id TEXT NOT NULL, failure TEXT, cancelled INTEGER,
    profile_instance TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS jobs_by_scope ON jobs (org, sandbox, created DESC, id DESC);
CREATE TABLE IF NOT EXISTS files (
    id TEXT PRIMARY KEY, batch TEXT NOT NULL, org TEXT NOT NULL, sandbox TEXT NOT NULL, dataset TEXT NOT NULL,
    content BLOB NOT NULL, records INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS files_by_batch ON files (org, sandbox, batch);
"""


@cache
def _expected() -> dict[str, list[str]]:
    """The columns of each table the schema makes (read once, from an empty database)."""
    db = sqlite3.connect(":memory:")
    try:
        db.executescript(SCHEMA)
        return {table: _columns(db, table) for table in ("datasets", "jobs", "files")}
    finally:
        db.close()


@dataclass(frozen=True)
class JobRow:
    id: int
    org: str
    sandbox: str
    created: int
    request: dict[str, Any]
    request_id: str
    failure: str | None
    cancelled: int | None
    profile_instance: str


class StateError(ValueError):
    """The state file cannot be used: a folder, a missing folder, not SQLite, or another program's tables."""


def _columns(db: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in db.execute(f"PRAGMA table_info({table})")]


class Store:
    """Thread-safe SQLite store. ``path=None`` keeps everything in memory."""

    def __init__(self, path: str | None = None) -> None:
        self.path = path
        if path is not None and os.path.isdir(path):
            raise StateError(f"state file {path!r} is a folder; name a file inside it")
        try:
            self._db = sqlite3.connect(path or ":memory:", check_same_thread=False, isolation_level=None)
        except sqlite3.Error as exc:
            folder = os.path.dirname(path or "") or "."
            why = "its folder does not exist" if not os.path.isdir(folder) else str(exc)
            raise StateError(f"cannot open state file {path!r}: {why}") from exc
        self._lock = threading.RLock()
        try:
            with self._lock:
                self._check_tables()
                self._db.executescript(SCHEMA)
        except (sqlite3.Error, StateError) as exc:
            self._db.close()
            if isinstance(exc, StateError):
                raise
            raise StateError(f"cannot use {path!r} as the state file: {exc}") from exc

    def _check_tables(self) -> None:
        """A file holding tables of the same names but another shape is refused, not failed on later."""
        for table, columns in _expected().items():
            found = _columns(self._db, table)
            if found and found != columns:
                raise StateError(f"{self.path!r} holds a {table!r} table that is not the reference server's "
                                 f"(columns {', '.join(found)}); use another file")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # datasets
    def add_dataset(self, org: str, sandbox: str, dataset_id: str, body: dict[str, Any], created: int) -> None:
        with self._lock:
            self._db.execute("INSERT INTO datasets VALUES (?, ?, ?, ?, ?)",
                             (org, sandbox, dataset_id, json.dumps(body), created))

    def dataset(self, org: str, sandbox: str, dataset_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT body FROM datasets WHERE org=? AND sandbox=? AND id=?",
                                   (org, sandbox, dataset_id)).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    # jobs
    def add_job(self, org: str, sandbox: str, created: int, request: dict[str, Any], request_id: str,
                failure: str | None, profile_instance: str) -> int:
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO jobs (org, sandbox, created, request, request_id, failure, cancelled, profile_instance)"
                " VALUES (?, ?, ?, ?, ?, ?, NULL, ?)",
                (org, sandbox, created, json.dumps(request), request_id, failure, profile_instance))
            return int(cur.lastrowid or 0)

    def _row(self, row: tuple[Any, ...]) -> JobRow:
        return JobRow(row[0], row[1], row[2], row[3], json.loads(row[4]), row[5], row[6], row[7], row[8])

    _COLUMNS = "id, org, sandbox, created, request, request_id, failure, cancelled, profile_instance"

    def job(self, job_id: int, org: str | None, sandbox: str | None) -> JobRow | None:
        query = f"SELECT {self._COLUMNS} FROM jobs WHERE id=?"
        args: list[Any] = [job_id]
        if org is not None:
            query += " AND org=?"
            args.append(org)
        if sandbox is not None:
            query += " AND sandbox=?"
            args.append(sandbox)
        with self._lock:
            row = self._db.execute(query, args).fetchone()
        return None if row is None else self._row(row)

    def jobs_page(self, org: str, sandbox: str | None, after: tuple[int, int] | None, limit: int,
                  ascending: bool = False, *, inclusive: bool = False) -> list[JobRow]:
        """Up to ``limit`` jobs newest first (creation time, then id) after the cursor ``after``
        (strictly, unless ``inclusive``): one index range scan, whatever the number of jobs."""
        query = f"SELECT {self._COLUMNS} FROM jobs WHERE org=?"
        args: list[Any] = [org]
        if sandbox is not None:
            query += " AND sandbox=?"
            args.append(sandbox)
        if after is not None:
            query += f" AND (created, id) {'>' if ascending else '<'}{'=' if inclusive else ''} (?, ?)"
            args.extend(after)
        query += " ORDER BY created ASC, id ASC" if ascending else " ORDER BY created DESC, id DESC"
        query += " LIMIT ?"
        args.append(limit)
        with self._lock:
            rows = self._db.execute(query, args).fetchall()
        return [self._row(r) for r in rows]

    def iter_jobs(self, org: str, sandbox: str | None, after: tuple[int, int] | None, ascending: bool = False, *,
                  inclusive: bool = False, chunk: int = 64) -> Iterator[JobRow]:
        """Jobs in list order from the cursor on, read a chunk at a time (a caller stops when it has enough)."""
        while True:
            rows = self.jobs_page(org, sandbox, after, chunk, ascending, inclusive=inclusive)
            yield from rows
            if len(rows) < chunk:
                return
            after, inclusive = (rows[-1].created, rows[-1].id), False
            chunk = min(chunk * 4, 4096)

    def cancel(self, job_id: int, at: int) -> None:
        with self._lock:
            self._db.execute("UPDATE jobs SET cancelled=? WHERE id=? AND cancelled IS NULL", (at, job_id))

    # files
    def add_file(self, file_id: str, batch: str, org: str, sandbox: str, dataset: str, content: bytes,
                 records: int) -> None:
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO files VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (file_id, batch, org, sandbox, dataset, content, records))

    def files(self, org: str, sandbox: str, batch: str) -> list[tuple[str, str, int, int]]:
        with self._lock:
            rows = self._db.execute("SELECT id, dataset, records, length(content) FROM files "
                                    "WHERE org=? AND sandbox=? AND batch=? ORDER BY id", (org, sandbox, batch))
            return [(r[0], r[1], r[2], r[3]) for r in rows.fetchall()]

    def file(self, org: str, sandbox: str, file_id: str) -> bytes | None:
        with self._lock:
            row = self._db.execute("SELECT content FROM files WHERE org=? AND sandbox=? AND id=?",
                                   (org, sandbox, file_id)).fetchone()
        return None if row is None else bytes(row[0])

