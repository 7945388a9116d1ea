"""The registry's feeds from the lake: a published 户籍 batch updates the registry's persons,
households and memberships; a published 死亡 batch records deaths. Each is an in-transaction
publish hook (exchange.hooks), chosen by the contract's ``feeds_registry`` (hukou | deaths), so
the registry changes in the same transaction as the batch becomes visible — or not at all."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

from django.utils import timezone

from dajiuzhu.exchange.hooks import PublishedBatch
from dajiuzhu.exchange.quality import sql_path
from dajiuzhu.exchange.validation import q


def feed_hukou(published: PublishedBatch) -> None:
    batch, con, fields = published.batch, published.con, published.fields
    from dajiuzhu.registry.bulk import HukouRow
    from dajiuzhu.registry.services import hukou_sync

    names = [
        "id_number",
        "name",
        "sex",
        "birth_date",
        "household_no",
        "relation_to_head",
        "division_code",
        "address",
        "status",
    ]
    select = ", ".join(f"{fields[n].value} AS {q(n)}" for n in names)
    key = fields["id_number"].value
    cursor = con.execute(
        f"SELECT {select} FROM v WHERE NOT _bad "
        f"QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY _row DESC) = 1"
    )

    def rows() -> Iterator[HukouRow]:
        while chunk := cursor.fetchmany(20_000):
            for r in chunk:
                yield HukouRow(
                    id_number=r[0],
                    name=r[1],
                    sex=r[2],
                    birth_date=r[3],
                    household_no=r[4],
                    relation=r[5],
                    division_code=r[6],
                    address=r[7] or "",
                    status=r[8],
                )

    hukou_sync(rows=rows(), as_of=timezone.localdate(), source=f"batch:{batch.pk}")


def feed_deaths(published: PublishedBatch) -> None:
    batch, con, part = published.batch, published.con, published.part
    from dajiuzhu.registry.services import deaths_sync

    cursor = con.execute(f"SELECT person_key, death_date FROM read_parquet('{sql_path(part)}')")

    def deaths() -> Iterator[tuple[int, date]]:
        while chunk := cursor.fetchmany(20_000):
            yield from chunk

    deaths_sync(deaths=deaths(), source=f"batch:{batch.pk}")


# The contract's ``feeds_registry`` names one of these.
FEEDS: dict[str, Callable[[PublishedBatch], None]] = {"hukou": feed_hukou, "deaths": feed_deaths}
