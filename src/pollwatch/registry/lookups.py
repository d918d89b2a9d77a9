"""The polling station a submission names, with its election and template, in one
hand-written query.

Every protocol-copy submission starts here; the ORM's select_related query costs about 3 ms of
CPU to build and compile on a small server, the statement itself a tenth of that. Of the
template the query reads only the digest: the template itself is kept in the process
(registry.current_templates). The pieces
(columns, joins, condition, and the instances from a row) are public so that a query reading
more beside the station — the submitter's standing, accreditation.eligibility — is this one
extended, not a copy of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper

from pollwatch import rows
from pollwatch.registry.current_templates import current_template
from pollwatch.registry.models import Election, PollingStation, ProtocolTemplate

# Parameters: the station's id, the election's slug.
STATION_WHERE = "s.id = %s AND e.slug = %s"


def station_in_election(station_id: int, election_slug: str) -> PollingStation | None:
    """Station ``station_id`` if it belongs to the election ``election_slug``, with
    ``station.election`` and ``station.election.template`` loaded."""
    connection = connections[router.db_for_read(PollingStation)]
    with connection.cursor() as cursor:
        cursor.execute(_station_sql(connection), [station_id, election_slug])
        row = cursor.fetchone()
    return None if row is None else station_from_row(row, connection)[0]


@rows.per_vendor
def _station_sql(connection: BaseDatabaseWrapper) -> str:
    return f"SELECT {station_columns(connection)} {station_from(connection)} WHERE {STATION_WHERE}"


def station_columns(connection: BaseDatabaseWrapper) -> str:
    """The station `s`, its election `e` and the digest of its template `t`, as
    ``station_from_row`` reads them."""
    return (
        f"{rows.columns(PollingStation, 's', connection)}, "
        f"{rows.columns(Election, 'e', connection)}, t.digest"
    )


def station_from(connection: BaseDatabaseWrapper) -> str:
    """FROM the station `s` joined to its election `e` and the election's template `t`."""
    quote = connection.ops.quote_name
    return (
        f"FROM {quote(PollingStation._meta.db_table)} s "
        f"JOIN {quote(Election._meta.db_table)} e ON e.id = s.election_id "
        f"JOIN {quote(ProtocolTemplate._meta.db_table)} t ON t.id = e.template_id"
    )


def station_from_row(
    row: Sequence[Any], connection: BaseDatabaseWrapper
) -> tuple[PollingStation, Sequence[Any]]:
    """The station (election and template loaded) from a row starting with
    ``station_columns``, and the rest of the row."""
    first = rows.width(PollingStation)
    second = first + rows.width(Election)
    station = rows.instance(PollingStation, row[:first], connection)
    election = rows.instance(Election, row[first:second], connection)
    election.template = current_template(election.template_id, row[second])
    station.election = election
    return station, row[second + 1 :]
