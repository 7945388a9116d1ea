"""Set-based loading of the 户籍 (hukou) dataset into the registry.

Rows go into temporary tables (COPY on PostgreSQL, executemany on SQLite), then a handful of
INSERT … ON CONFLICT / UPDATE … FROM statements upsert persons and households and move
memberships. The same SQL runs on both databases. ID numbers arrive in clear only here: they
are encrypted (AES-GCM) and indexed (HMAC) before they touch the database.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import connection
from django.utils import timezone

from dajiuzhu.core import crypto

CHUNK = 50_000
ANALYZE_AFTER = 100_000


@dataclass
class HukouRow:
    id_number: str
    name: str
    sex: str
    birth_date: date
    household_no: str
    relation: str
    division_code: str
    address: str
    status: str


@dataclass
class SyncCounts:
    rows: int = 0
    persons_inserted: int = 0
    persons_updated: int = 0
    households_inserted: int = 0
    memberships_ended: int = 0
    memberships_started: int = 0
    relations_changed: int = 0
    divisions_created: int = 0
    unknown_division: int = 0


TEMP_PERSON_COLUMNS = (
    "id_index varchar(64) PRIMARY KEY, person_key bigint, id_number_enc {blob}, "
    "name varchar(50), sex varchar(1), birth_date date, division_id varchar(15), "
    "status varchar(10), household_no varchar(30), relation varchar(12), address varchar(200)"
)


def _blob() -> str:
    return "bytea" if connection.vendor == "postgresql" else "blob"


def _chunks(rows: Iterable[HukouRow]) -> Iterator[list[HukouRow]]:
    chunk: list[HukouRow] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _prepare(rows: Sequence[HukouRow]) -> Iterator[tuple]:
    aes = AESGCM(crypto.data_key())
    key = crypto.index_key()
    aad = b"person.id_number"
    for r in rows:
        if "\x00" in r.name or "\x00" in r.household_no or "\x00" in (r.address or ""):
            # The ingestion quarantines such rows (validation.py, control_chars); a row that
            # still holds NUL would fail the whole load on PostgreSQL. Never its value here.
            raise ValueError("a 户籍 row holding NUL reached the registry feed")
        raw = r.id_number.encode()
        digest = hmac.digest(key, raw, "sha256")
        nonce = os.urandom(12)
        yield (
            digest.hex(),
            crypto.person_key_from_digest(digest),
            nonce + aes.encrypt(nonce, raw, aad),
            r.name,
            r.sex,
            r.birth_date,
            r.division_code,
            r.status,
            r.household_no,
            r.relation,
            r.address or "",
        )


COLUMNS = (
    "id_index, person_key, id_number_enc, name, sex, birth_date, division_id, status, "
    "household_no, relation, address"
)


def _load_temp(cursor, rows: Iterable[HukouRow]) -> int:
    cursor.execute("DROP TABLE IF EXISTS tmp_hukou_person")
    columns = TEMP_PERSON_COLUMNS.format(blob=_blob())
    cursor.execute(f"CREATE TEMP TABLE tmp_hukou_person ({columns})")
    loaded = 0
    if connection.vendor == "postgresql":
        with cursor.cursor.copy(f"COPY tmp_hukou_person ({COLUMNS}) FROM STDIN") as copy:
            for chunk in _chunks(rows):
                loaded += len(chunk)
                for record in _prepare(chunk):
                    copy.write_row(record)
    else:
        placeholders = ", ".join(["%s"] * 11)
        sql = f"INSERT OR REPLACE INTO tmp_hukou_person ({COLUMNS}) VALUES ({placeholders})"  # noqa: S608
        for chunk in _chunks(rows):
            loaded += len(chunk)
            cursor.executemany(sql, list(_prepare(chunk)))
    return loaded


def sync(rows: Iterable[HukouRow], *, as_of: date) -> SyncCounts:
    """Upsert persons, households and current memberships. Call inside a transaction.

    ``rows`` may be any iterable (it is streamed into a temporary table in chunks)."""
    counts = SyncCounts()
    now = timezone.now()
    with connection.cursor() as cursor:
        counts.rows = _load_temp(cursor, rows)
        # Communities the registry does not know yet, under known towns (公安 codes are
        # authoritative); their names are filled in by an administrator.
        cursor.execute(
            """
            INSERT INTO core_division (code, name, level, parent_id)
            SELECT DISTINCT t.division_id, '(待命名)' || t.division_id, 'community',
                   substr(t.division_id, 1, 9)
            FROM tmp_hukou_person t
            JOIN core_division town ON town.code = substr(t.division_id, 1, 9)
            WHERE length(t.division_id) = 12
              AND NOT EXISTS (SELECT 1 FROM core_division d WHERE d.code = t.division_id)
            """
        )
        counts.divisions_created = cursor.rowcount
        # Rows whose division is still unknown (no such town) cannot be placed: the ingestion
        # quarantines them before this point; anything left is counted, never half-loaded.
        cursor.execute(
            "DELETE FROM tmp_hukou_person WHERE NOT EXISTS "
            "(SELECT 1 FROM core_division d WHERE d.code = tmp_hukou_person.division_id)"
        )
        counts.unknown_division = cursor.rowcount
        cursor.execute(
            "SELECT count(*) FROM tmp_hukou_person t "
            "WHERE NOT EXISTS (SELECT 1 FROM registry_person p WHERE p.id_index = t.id_index)"
        )
        counts.persons_inserted = cursor.fetchone()[0]
        cursor.execute(
            """
            SELECT count(*) FROM tmp_hukou_person t
            JOIN registry_person p ON p.id_index = t.id_index
            WHERE p.name <> t.name OR p.hukou_division_id <> t.division_id OR p.status <> t.status
            """
        )
        counts.persons_updated = cursor.fetchone()[0]
        cursor.execute(
            """
            INSERT INTO registry_person (id_number_enc, id_index, person_key, name, sex, birth_date,
                hukou_division_id, status, created_at, updated_at)
            SELECT id_number_enc, id_index, person_key, name, sex, birth_date, division_id, status,
                %s, %s
            FROM tmp_hukou_person WHERE true
            ON CONFLICT (id_index) DO UPDATE SET
                name = excluded.name, hukou_division_id = excluded.hukou_division_id,
                status = excluded.status, updated_at = excluded.updated_at
            WHERE registry_person.name <> excluded.name
               OR registry_person.hukou_division_id <> excluded.hukou_division_id
               OR registry_person.status <> excluded.status
            """,
            [now, now],
        )
        cursor.execute(
            "SELECT count(DISTINCT household_no) FROM tmp_hukou_person t WHERE NOT EXISTS "
            "(SELECT 1 FROM registry_household h WHERE h.household_no = t.household_no)"
        )
        counts.households_inserted = cursor.fetchone()[0]
        # A household takes the division and address of its head (or of any member).
        cursor.execute(
            """
            INSERT INTO registry_household
                (household_no, division_id, address, created_at, updated_at)
            SELECT household_no, min(division_id), max(address), %s, %s
            FROM tmp_hukou_person GROUP BY household_no
            ON CONFLICT (household_no) DO UPDATE SET
                division_id = excluded.division_id, address = excluded.address,
                updated_at = excluded.updated_at
            WHERE registry_household.division_id <> excluded.division_id
               OR registry_household.address <> excluded.address
            """,
            [now, now],
        )
        cursor.execute("DROP TABLE IF EXISTS tmp_hukou_link")
        cursor.execute(
            """
            CREATE TEMP TABLE tmp_hukou_link AS
            SELECT p.id AS person_id, h.id AS household_id, t.relation AS relation
            FROM tmp_hukou_person t
            JOIN registry_person p ON p.id_index = t.id_index
            JOIN registry_household h ON h.household_no = t.household_no
            """
        )
        cursor.execute("CREATE INDEX tmp_hukou_link_person ON tmp_hukou_link (person_id)")
        cursor.execute(
            """
            UPDATE registry_membership SET end_date = %s
            WHERE end_date IS NULL AND EXISTS (
                SELECT 1 FROM tmp_hukou_link l
                WHERE l.person_id = registry_membership.person_id
                  AND l.household_id <> registry_membership.household_id)
            """,
            [as_of],
        )
        counts.memberships_ended = cursor.rowcount
        cursor.execute(
            """
            UPDATE registry_membership SET relation = (
                SELECT l.relation FROM tmp_hukou_link l
                WHERE l.person_id = registry_membership.person_id)
            WHERE end_date IS NULL AND EXISTS (
                SELECT 1 FROM tmp_hukou_link l
                WHERE l.person_id = registry_membership.person_id
                  AND l.household_id = registry_membership.household_id
                  AND l.relation <> registry_membership.relation)
            """
        )
        counts.relations_changed = cursor.rowcount
        cursor.execute(
            """
            INSERT INTO registry_membership (household_id, person_id, relation, start_date)
            SELECT l.household_id, l.person_id, l.relation, %s FROM tmp_hukou_link l
            WHERE NOT EXISTS (SELECT 1 FROM registry_membership m
                              WHERE m.person_id = l.person_id AND m.end_date IS NULL)
            """,
            [as_of],
        )
        counts.memberships_started = cursor.rowcount
        cursor.execute("DROP TABLE IF EXISTS tmp_hukou_link")
        cursor.execute("DROP TABLE IF EXISTS tmp_hukou_person")
        if connection.vendor == "postgresql" and counts.rows >= ANALYZE_AFTER:
            # A big load changes the tables' shape: refresh the planner's statistics now
            # rather than waiting for autovacuum (else look-ups may scan whole tables).
            cursor.execute("ANALYZE registry_person, registry_household, registry_membership")
    counts.persons_updated = max(counts.persons_updated, 0)
    return counts


def deaths_sync(deaths: Iterable[tuple[int, date]]) -> int:
    """Mark persons (by person_key) as deceased with their date of death. Returns rows changed."""
    changed = 0
    now = timezone.now()
    with connection.cursor() as cursor:
        batch: list[tuple[int, date]] = []
        for item in deaths:
            batch.append(item)
            if len(batch) >= CHUNK:
                changed += _deaths_chunk(cursor, batch, now)
                batch = []
        if batch:
            changed += _deaths_chunk(cursor, batch, now)
    return changed


def _deaths_chunk(cursor, batch, now) -> int:
    cursor.executemany(
        "UPDATE registry_person SET status = 'deceased', death_date = %s, updated_at = %s "
        "WHERE person_key = %s AND (status <> 'deceased' OR death_date IS NULL "
        "OR death_date <> %s)",
        [(d, now, k, d) for k, d in batch],
    )
    return cursor.rowcount if cursor.rowcount >= 0 else 0
