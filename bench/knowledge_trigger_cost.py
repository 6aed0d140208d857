#!/usr/bin/env python
"""What the SQLite bigram triggers of the knowledge base cost per saved article, by article length.

    .venv/bin/python bench/knowledge_trigger_cost.py 2000 10000

Builds the table, the extended positions table and the FTS5 table with its triggers exactly as migration
service/0005_knowledge does (guanxi.core.textsearch DDL) in an in-memory database, inserts 20 articles of each length
and prints the mean time per insert and of one phrase match. The trigger cuts the text with substr(), which walks
UTF-8 from the start: the cost grows with the square of the length.
"""

import sqlite3
import sys
import time

from guanxi.core import textsearch

TABLE, COLUMN, MAX_POSITION, ROUNDS = "service_articlerevision", "search_text", 10_300, 20


def measure(length: int) -> None:
    db = sqlite3.connect(":memory:")
    db.execute(f'CREATE TABLE "{TABLE}" (id INTEGER PRIMARY KEY, title TEXT, {COLUMN} TEXT)')
    for statement in textsearch.sqlite_positions_sql():
        db.execute(statement)
    db.execute(
        f'INSERT OR IGNORE INTO "{textsearch.SQLITE_POSITIONS_TABLE}" (n) WITH RECURSIVE p(n) AS '  # noqa: S608
        f"(SELECT 1 UNION ALL SELECT n + 1 FROM p WHERE n < {MAX_POSITION}) SELECT n FROM p"
    )
    for statement in textsearch.sqlite_bigram_index_sql(TABLE, COLUMN):
        db.execute(statement)
    body = ("关于电费缴纳的说明：客户可在营业厅或网上国网APP缴费。" * (length // 20 + 1))[:length]
    started = time.perf_counter()
    for _ in range(ROUNDS):
        db.execute(f'INSERT INTO "{TABLE}" (title, {COLUMN}) VALUES (?, ?)', ("t", body))  # noqa: S608
    db.commit()
    insert_ms = (time.perf_counter() - started) / ROUNDS * 1000
    fts = textsearch.sqlite_fts_table(TABLE, COLUMN)
    started = time.perf_counter()
    found = db.execute(f'SELECT count(*) FROM "{fts}" WHERE "{fts}" MATCH ?', [textsearch.fts_phrase("网上国网")])  # noqa: S608
    count = found.fetchone()[0]
    match_ms = (time.perf_counter() - started) * 1000
    print(f"{length:>6} characters: insert {insert_ms:7.1f} ms, phrase match {match_ms:.2f} ms ({count} rows)")


if __name__ == "__main__":
    for argument in sys.argv[1:] or ["2000", "10000"]:
        measure(int(argument))
