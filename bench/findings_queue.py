"""The findings queue's first page at 1,000,000 findings, on PostgreSQL.

    .venv/bin/python bench/findings_queue.py                       # 1,000,000 findings
    .venv/bin/python bench/findings_queue.py --findings 50000 --runs 10

In a fresh PostgreSQL database `bench_findings_queue` (dropped afterwards), in a child process
since Django's settings are per process: migrate, then load with INSERT … SELECT over
generate_series an election of 85 regions × 30 territorial commissions, one station per four
findings, and the findings: kinds, severities, statuses and magnitudes drawn as a real queue
has them (most open, a few decided; heavy-tailed differences; missing pieces at 0), 5 %
resolved, a few commission totals. ANALYZE, as autovacuum would soon after a recording.

Then, for each filter set, the first page (50 rows) is read `--runs` times, timed twice:
- query: `selectors.queue_page` alone (its SQL, rows to objects);
- page: GET of the queue page in-process through Django's test Client, as a verified analyst
  (every middleware, the view, its queries, the template).
A page deep in the queue (`after` a cursor at the median) is timed too. Prints p50 and max, and
writes bench/results/findings_queue.json. (An earlier run weighed the id as the queue indexes'
last column and an index over resolved findings, added by hand: they took ties from 580 to
26 ms and "resolved included" from 377 to 22 ms, and are now in the schema.)
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import time
from typing import Any

from harness import (
    POSTGRESQL,
    Figures,
    add_database_options,
    description,
    heading,
    machine,
    record,
    report_to_parent,
    run_on_databases,
    setup_django,
)

BENCH = "findings_queue"
BENCH_DATABASE = "bench_findings_queue"
PER_STATION = 4
REGIONS = 85
TERRITORIES_PER_REGION = 30


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--findings", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=15, help="timed runs per filter set")
    add_database_options(parser, BENCH, sqlite=False)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        report_to_parent(_measure_in_child(args.findings, args.runs))
        return

    arguments = ["--child", "--findings", str(args.findings), "--runs", str(args.runs)]
    runs = run_on_databases(__file__, arguments, [POSTGRESQL], args.postgres, BENCH_DATABASE)
    run = runs[POSTGRESQL]
    figures = {
        **heading(BENCH),
        "findings": args.findings,
        "runs_per_case": args.runs,
        "page_size": run["page_size"],
        "measured": "query: selectors.queue_page; page: GET through django.test.Client "
        "in-process (middleware, view, queries, template), as a verified analyst",
        **run,
        "machine": machine(),
    }
    record(args.out, figures, _print)


def _measure_in_child(count: int, runs: int) -> dict[str, Any]:
    setup_django(test_client=True)
    from django.db import connection

    start = time.perf_counter()
    slug = _load(count)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    load_seconds = time.perf_counter() - start
    client = _analyst_client()
    load_before = os.getloadavg()[0]
    cases = _time_cases(slug, runs, client)
    from pollwatch.findings.selectors import QUEUE_PAGE_SIZE

    return {
        "server": f"PostgreSQL {version}",
        "load_seconds": round(load_seconds, 1),
        "page_size": QUEUE_PAGE_SIZE,
        # The machine is shared: its 1-minute load average before and after the timings.
        "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)],
        "cases": cases,
    }


def _load(count: int) -> str:
    """The election, its structure and `count` findings, written by the database itself."""
    from django.db import connection

    from pollwatch.findings.models import Finding
    from pollwatch.registry.models import Commission, Election, PollingStation, ProtocolTemplate

    lines = [
        {"key": key, "number": str(n + 1), "label": {"en": key}, "option": key in ("yes", "no")}
        for n, key in enumerate(("registered", "issued", "in_boxes", "invalid", "yes", "no"))
    ]
    # Every relation is an error, as the broken relations drawn below are.
    relations = [{"expression": "issued <= registered", "severity": "error", "description": {}}]
    template = ProtocolTemplate.objects.create(
        key="bench", name="Bench", kind="referendum", lines=lines, relations=relations
    )
    election = Election.objects.create(
        slug="bench", name="Bench", kind="referendum", date=datetime.date(2026, 1, 1),
        template=template,
    )  # fmt: skip
    stations = max(1, count // PER_STATION)
    territories = REGIONS * TERRITORIES_PER_REGION
    commission = Commission._meta.db_table
    station = PollingStation._meta.db_table
    finding = Finding._meta.db_table
    e = election.pk
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {commission} (election_id, code, name, level, depth, parent_id, "
            "station_count, registered_voters) "
            f"SELECT {e}, 'R' || r, 'Region ' || r, 'region', 0, NULL, 0, 0 "
            f"FROM generate_series(1, {REGIONS}) r"
        )
        cursor.execute(
            f"INSERT INTO {commission} (election_id, code, name, level, depth, parent_id, "
            "station_count, registered_voters) "
            f"SELECT {e}, 'T' || t, 'Territory ' || t, 'territorial', 1, region.id, 0, 0 "
            f"FROM generate_series(0, {territories - 1}) t "
            f"JOIN {commission} region ON region.election_id = {e} "
            f"AND region.code = 'R' || (t % {REGIONS} + 1)"
        )
        # Stations spread round-robin over the territories, so every region has its share.
        cursor.execute(
            f"INSERT INTO {station} (election_id, code, number, commission_id, "
            "registered_voters, address) "
            f"SELECT {e}, 'S' || s, s::text, territory.id, 1000, '' "
            f"FROM generate_series(0, {stations - 1}) s "
            f"JOIN {commission} territory ON territory.election_id = {e} "
            f"AND territory.code = 'T' || (s % {territories})"
        )
        # Kinds, severities, statuses and magnitudes as a real queue has them (see the doc).
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(
            f"""
            INSERT INTO {finding} (election_id, fingerprint, kind, severity, station_id,
                commission_id, lines, relation, left_value, right_value, delta, magnitude,
                detail, status, present, resolved_at, first_seen, last_changed)
            SELECT {e}, kind || '|station:' || station_id || '|line:' || n, kind,
                CASE WHEN kind LIKE 'missing-%' THEN 'warning' ELSE 'error' END,
                station_id, NULL, '["yes"]'::jsonb, '', 100 + magnitude, 100, magnitude,
                magnitude, '{{}}'::jsonb, status, present,
                CASE WHEN present THEN NULL ELSE now() END, now(), now()
            FROM (
                SELECT n, (SELECT min(id) FROM {station}) + n / {PER_STATION} AS station_id,
                    CASE
                        WHEN k < 0.40 THEN 'copy-differs-from-official'
                        WHEN k < 0.60 THEN 'copies-disagree'
                        WHEN k < 0.70 THEN 'relation-broken-on-copy'
                        WHEN k < 0.80 THEN 'consensus-differs-from-official'
                        WHEN k < 0.95 THEN 'missing-copy'
                        ELSE 'missing-official-result'
                    END AS kind,
                    CASE WHEN k >= 0.80 THEN 0 ELSE floor(exp(m * 9))::bigint END AS magnitude,
                    CASE
                        WHEN s < 0.90 THEN 'open'
                        WHEN s < 0.94 THEN 'under_verification'
                        WHEN s < 0.96 THEN 'confirmed'
                        WHEN s < 0.99 THEN 'dismissed'
                        ELSE 'complaint_filed'
                    END AS status,
                    p >= 0.05 AS present
                FROM (
                    SELECT n, random() AS k, random() AS m, random() AS s, random() AS p
                    FROM generate_series(0, {count - 1}) n
                ) draws
            ) rows
            """
        )
        # A few commission totals that differ from their children's sum.
        cursor.execute(
            f"""
            INSERT INTO {finding} (election_id, fingerprint, kind, severity, station_id,
                commission_id, lines, relation, left_value, right_value, delta, magnitude,
                detail, status, present, resolved_at, first_seen, last_changed)
            SELECT {e}, 'total-differs-from-children|commission:' || id || '|line:yes',
                'total-differs-from-children', 'error', NULL, id, '["yes"]'::jsonb, '',
                1000 + id % 500, 1000, id % 500, id % 500, '{{}}'::jsonb, 'open', true, NULL,
                now(), now()
            FROM {commission} WHERE election_id = {e} AND id % 10 = 0
            """
        )
    return election.slug


def _analyst_client() -> Any:
    """A test client logged in as an analyst who has passed the second factor."""
    from django.contrib.auth.models import User
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from pollwatch.accounts.roles import Role, grant_role

    analyst = User.objects.create_user("bench-analyst")
    grant_role(analyst, Role.ANALYST)
    client = Client()
    client.force_login(analyst)
    device = TOTPDevice.objects.create(user=analyst, name="bench", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    client.analyst = analyst  # type: ignore[attr-defined]
    return client


def _time_cases(slug: str, runs: int, client: Any) -> dict[str, Any]:
    from pollwatch.findings import selectors
    from pollwatch.findings.selectors import Cursor, QueueFilters
    from pollwatch.registry.models import Commission, Election

    election = Election.objects.select_related("template").get(slug=slug)
    region = Commission.objects.filter(election=election, parent=None).order_by("code")[7]
    analyst = client.analyst
    findings = selectors.findings_visible_to(analyst, election)
    median = findings.filter(present=True).order_by("-magnitude", "-pk")[
        findings.filter(present=True).count() // 2
    ]
    deep = Cursor.of(median)
    cases: dict[str, tuple[QueueFilters, Cursor | None, dict[str, str]]] = {
        "no filters": (QueueFilters(), None, {}),
        "status open": (QueueFilters(status="open"), None, {"status": "open"}),
        "kind copies-disagree": (
            QueueFilters(kind="copies-disagree"), None, {"kind": "copies-disagree"},
        ),
        "kind + status (confirmed)": (
            QueueFilters(kind="copies-disagree", status="confirmed"), None,
            {"kind": "copies-disagree", "status": "confirmed"},
        ),
        # Missing pieces all have magnitude 0: one tie group of ~150,000 rows per status.
        "kind missing-copy (all ties)": (
            QueueFilters(kind="missing-copy"), None, {"kind": "missing-copy"},
        ),
        "severity warning": (QueueFilters(severity="warning"), None, {"severity": "warning"}),
        "region (1 of 85)": (QueueFilters(region=region), None, {"region": str(region.pk)}),
        "region + kind + status (dismissed)": (
            QueueFilters(region=region, kind="copies-disagree", status="dismissed"), None,
            {"region": str(region.pk), "kind": "copies-disagree", "status": "dismissed"},
        ),
        "include resolved": (QueueFilters(include_resolved=True), None, {"resolved": "on"}),
        "deep page (after the median)": (QueueFilters(), deep, {"after": str(deep)}),
    }  # fmt: skip
    url = f"/elections/{slug}/findings/"
    results: dict[str, Any] = {}
    for name, (filters, after, query) in cases.items():
        rows = len(selectors.queue_page(findings, filters, after, election=election).findings)
        query_ms, page_ms = [], []
        for _ in range(runs):
            start = time.perf_counter()
            selectors.queue_page(findings, filters, after, election=election)
            query_ms.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            response = client.get(url, query)
            page_ms.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (name, response.status_code)
        results[name] = {"rows": rows, "query_ms": _summary(query_ms), "page_ms": _summary(page_ms)}
    return results


def _summary(milliseconds: list[float]) -> dict[str, float]:
    return {
        "p50": round(statistics.median(milliseconds), 2),
        "max": round(max(milliseconds), 2),
    }


def _print(figures: Figures) -> None:
    print(
        f"{figures['findings']:,} findings, {figures['server']}; loaded in "
        f"{figures['load_seconds']:.0f} s; load average {figures['load_average']}"
    )
    header = (
        f"{'first page':<36} {'rows':>4} {'query p50':>10} {'max':>8} {'page p50':>9} {'max':>8}"
    )
    print(f"  {header}")
    for name, case in figures["cases"].items():
        query, page = case["query_ms"], case["page_ms"]
        print(
            f"  {name:<36} {case['rows']:>4} {query['p50']:>10.1f} {query['max']:>8.1f} "
            f"{page['p50']:>9.1f} {page['max']:>8.1f}"
        )


if __name__ == "__main__":
    main()
