"""Write-ahead-log pages SQLite writes per index entry: a B-tree index of (person, time, event) grown in
transactions of B rows, against sorted runs (a fresh table per B rows) and their merge. The measurement behind
crates/store/src/person_runs.rs; run with `python3 docs/experiments/wal_pages.py` (a few minutes, a few GiB in
/tmp). Counts pages, not seconds, so the machine's load does not change it."""
import os
import random
import sqlite3

FRAME = 4096 + 24
PATH = "/tmp/kiemdich-wal-pages.db"
TABLE = "(citizen TEXT, at INT, id INT, PRIMARY KEY (citizen, at, id)) WITHOUT ROWID"


def fresh():
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(PATH + suffix):
            os.remove(PATH + suffix)
    db = sqlite3.connect(PATH, isolation_level=None)
    for pragma in ("journal_mode=WAL", "cache_size=-1000000", "wal_autocheckpoint=0"):
        db.execute(f"PRAGMA {pragma}")
    return db


def wal_pages(db):
    return (os.path.getsize(PATH + "-wal") - 32) / FRAME


def index_inserts(log_rows, people, batch, total):
    """WAL pages a row when `total` rows go into an index already holding `log_rows`, `batch` a transaction."""
    db = fresh()
    db.execute(f"CREATE TABLE person {TABLE}")
    rnd = random.Random(7)
    ids = [f"{rnd.randrange(10**11, 10**12):012d}" for _ in range(people)]
    db.execute("BEGIN")
    db.executemany("INSERT INTO person VALUES (?,?,?)", sorted((ids[rnd.randrange(people)], i, i) for i in range(log_rows)))
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    at = log_rows
    for _ in range(total // batch):
        rows = sorted((ids[rnd.randrange(people)], at + k, at + k) for k in range(batch))
        at += batch
        db.execute("BEGIN")
        db.executemany("INSERT INTO person VALUES (?,?,?)", rows)
        db.execute("COMMIT")
    return wal_pages(db) / total


def runs(batch, count=8):
    """WAL pages a row for `count` runs of `batch` rows each written as a table, then for their merge."""
    db = fresh()
    rnd = random.Random(7)
    for r in range(count):
        rows = sorted((f"{rnd.randrange(10**11, 10**12):012d}", k, k) for k in range(batch))
        db.execute("BEGIN")
        db.execute(f"CREATE TABLE run_{r} {TABLE}")
        db.executemany(f"INSERT INTO run_{r} VALUES (?,?,?)", rows)
        db.execute("COMMIT")
    written = wal_pages(db) / (count * batch)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    union = " UNION ALL ".join(f"SELECT * FROM run_{r}" for r in range(count))
    db.execute("BEGIN")
    db.execute(f"CREATE TABLE merged {TABLE}")
    db.execute(f"INSERT INTO merged SELECT * FROM ({union}) ORDER BY 1, 2, 3")
    for r in range(count):
        db.execute(f"DROP TABLE run_{r}")
    db.execute("COMMIT")
    return written, wal_pages(db) / (count * batch)


print("| index rows before | distinct people | rows a transaction | WAL pages a row |")
print("|---|---|---|---|")
for log_rows, people in [(250_000, 2_000), (1_000_000, 1_200_000), (5_000_000, 1_200_000)]:
    for batch in (1_000, 10_000, 100_000):
        pages = index_inserts(log_rows, people, batch, max(200_000, batch * 2))
        print(f"| {log_rows:,} | {people:,} | {batch:,} | {pages:.3f} |", flush=True)
print()
print("| rows a run | WAL pages a row, run written | WAL pages a row, 8 runs merged |")
print("|---|---|---|")
for batch in (1_000, 10_000, 100_000):
    written, merged = runs(batch)
    print(f"| {batch:,} | {written:.4f} | {merged:.4f} |", flush=True)
for suffix in ("", "-wal", "-shm"):
    if os.path.exists(PATH + suffix):
        os.remove(PATH + suffix)
