"""Rows written in bulk, with ids chosen here: PostgreSQL's COPY, or executemany elsewhere.

Ids are chosen after the highest in each table and PostgreSQL's sequences moved past them, so the
application adds rows afterwards as usual. Rows are held until :meth:`RowWriter.write`, which
takes the tables in dependency order (foreign keys are checked row by row) and forgets them: a
caller writes every few hundred learners to keep memory flat. Nothing is committed here.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portfolio.core.db import Base


class RowWriter:
    def __init__(self, session: Session):
        self.session = session
        self.rows: dict[str, list[dict]] = defaultdict(list)
        self.next_id: dict[str, int] = {}
        #: Rows written so far, per table.
        self.written: Counter[str] = Counter()
        self.on_postgres = session.get_bind().dialect.name == "postgresql"

    def add(self, table: str, **row) -> int:
        if table not in self.next_id:
            self.next_id[table] = self.session.execute(
                sa.text(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")).scalar_one()
        row["id"] = self.next_id[table]
        self.next_id[table] += 1
        self.rows[table].append(row)
        return row["id"]

    def write(self, order: list[str]) -> None:
        unordered = set(self.rows) - set(order)
        if unordered:
            raise ValueError(f"no place in the writing order for {sorted(unordered)}")
        for table in order:
            rows = self.rows.pop(table, [])
            if rows:
                (self._copy if self.on_postgres else self._insert)(table, rows)
                self.written[table] += len(rows)

    def _insert(self, table: str, rows: list[dict]) -> None:
        # Core's insert converts each value as the column's type would (JSON, UTC times).
        self.session.execute(Base.metadata.tables[table].insert(), rows)

    def _copy(self, table: str, rows: list[dict]) -> None:
        cursor = self.session.connection().connection.driver_connection.cursor()
        columns = list(rows[0])
        names = ", ".join(f'"{column}"' for column in columns)  # "check" is a keyword
        with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([json.dumps(value) if isinstance(value, list | dict) else value
                                for value in row.values()])
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                       f"(SELECT max(id) FROM {table}))")
        cursor.close()
