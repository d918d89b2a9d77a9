"""The forensics and PVT pages: every role, the report kept per data state, bad input refused
with nothing stored, the estimate with and without official results."""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db.models import Count
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from pollwatch.accounts.roles import Role
from pollwatch.accreditation.models import Assignment
from pollwatch.analysis import forensics_reports
from pollwatch.analysis.data_state import data_state
from pollwatch.analysis.election_figures import observed_station_figures, registry_frame
from pollwatch.analysis.models import ForensicsFigure, ForensicsReport, PvtPlan, PvtSampleStation
from pollwatch.core.forensics import klimek
from pollwatch.core.pvt import ndi_sample_size
from pollwatch.core.synth import SynthParams, generate, write_files
from pollwatch.demo.election import load_synthetic_election
from pollwatch.registry.models import Election
from tests.accounts.factories import login_verified, make_user

pytestmark = pytest.mark.django_db

STATIONS = 300
ROLES = ("anonymous", "observer", "coordinator", "analyst", "data_clerk", "administrator")
DRAWERS = {"analyst", "administrator"}


def synthetic_election(directory: Path, **parts: bool) -> Election:
    write_files(generate(SynthParams.build(stations=STATIONS, seed=5)), directory)
    return load_synthetic_election(directory, crosscheck=False, **parts)


@pytest.fixture
def election(tmp_path: Path) -> Election:
    return synthetic_election(tmp_path / "synth")


@pytest.fixture
def quick_klimek(monkeypatch: pytest.MonkeyPatch) -> None:
    # The fit's accuracy is tested in core; here only its way onto the page, kept cheap.
    cheap = functools.partial(klimek.fit, simulated=5_000, max_evaluations=4)
    monkeypatch.setattr(forensics_reports, "fit", cheap)


@pytest.fixture(autouse=True)
def reports_inline(monkeypatch: pytest.MonkeyPatch, quick_klimek: None) -> Iterator[None]:
    """The test's transaction is invisible to another thread: compute in the request here (the
    browser tests run the real background thread)."""
    monkeypatch.setattr(
        forensics_reports, "run_in_background", lambda function, report_id: function(report_id)
    )
    monkeypatch.setattr(forensics_reports, "REFRESH_INTERVAL", datetime.timedelta(0))
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def people() -> dict[str, User | None]:
    return {
        "anonymous": None,
        "observer": make_user("observer-person", Role.OBSERVER),
        "coordinator": make_user("coordinator-person", Role.COORDINATOR),
        "analyst": make_user("analyst-person", Role.ANALYST),
        "data_clerk": make_user("clerk-person", Role.DATA_CLERK),
        "administrator": make_user("admin-person", Role.ADMINISTRATOR),
    }  # type: ignore[dict-item]


def client_of(people: dict[str, User | None], role: str) -> Client:
    client = Client()
    user = people[role]
    if user is not None:
        login_verified(client, user)
    return client


def forensics_url(election: Election, source: str | None = None) -> str:
    url = reverse("forensics", args=[election.slug])
    return f"{url}?source={source}" if source else url


def text(response: Any) -> str:
    return response.content.decode()


# --- forensics ---------------------------------------------------------------------------


def test_every_role_sees_the_report_its_figures_and_explanations(
    election: Election, people: dict[str, User | None]
) -> None:
    for role in ROLES:
        response = client_of(people, role).get(forensics_url(election))
        assert response.status_code == 200, role
        page = text(response)
        assert 'data-state="ready"' in page, role
        assert page.count("What it can show:") == 7
        assert page.count("What it cannot show:") == 7
        assert "An anomaly is a reason to ask, not proof of fraud." in page
        figures = re.findall(r'<img class="forensics-figure" src="([^"]+)"', page)
        assert len(figures) == 5, role  # fingerprint, Klimek, distributions, integers, Shpilkin
        for url in figures:
            image = client_of(people, role).get(url)
            assert image.status_code == 200 and image["Content-Type"] == "image/svg+xml"
            assert image.content.startswith(b"<?xml") and b"<svg" in image.content
            assert "immutable" in image["Cache-Control"]
            png = client_of(people, role).get(url.removesuffix(".svg") + ".png")
            assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    # Computed once for the data as it is, whoever asked and however often.
    report = ForensicsReport.objects.get()
    assert report.status == ForensicsReport.Status.READY
    assert report.state == data_state(election)
    assert ForensicsFigure.objects.filter(report=report).count() == 6


def test_the_report_shows_each_test_s_numbers(election: Election) -> None:
    page = text(Client().get(forensics_url(election)))
    results = ForensicsReport.objects.get().results
    test = results["integer_percentage"]
    assert test["included"] > 0
    table = re.search(r'<table data-table="integer-percentages">.*?</table>', page, re.S)
    assert table is not None
    assert f"<td>{test['observed']:,}</td>" in table[0]
    assert f"<td>{test['expected']:,.1f}</td>" in table[0]
    assert f"{results['shpilkin']['excess_votes']:,.0f}" in page
    assert f">{results['klimek']['incremental']:,.2f}<" in page
    assert page.count('data-statistic="2BL"') == 2  # the leader and the other option
    # The synthetic election has observers at some stations: the observer effect, by region.
    observers = results["observers"]
    assert observers["observed_stations"] > 0 and observers["unobserved_stations"] > 0
    assert observers["observed_stations"] + observers["unobserved_stations"] == results["stations"]
    assert '<table data-table="observer-regions">' in page


def test_the_observers_consensus_is_tested_on_request(election: Election) -> None:
    response = Client().get(forensics_url(election, "observed"))
    assert response.status_code == 200
    report = ForensicsReport.objects.get(source="observed")
    assert report.results["stations"] == observed_station_figures(election).stations
    assert "every station with an observers' consensus had observers" in text(response)
    assert 'aria-current="page">Observers' in text(response)


def test_a_new_data_state_gets_a_new_report_and_the_old_one_stays_served(
    election: Election,
) -> None:
    client = Client()
    client.get(forensics_url(election))
    first = ForensicsReport.objects.get()
    old_figure = reverse("forensics_figure_svg", args=[election.slug, first.pk, "fingerprint"])
    Assignment.objects.filter(pk=Assignment.objects.order_by("pk").first().pk).delete()
    page = text(client.get(forensics_url(election)))
    assert ForensicsReport.objects.count() == 2
    second = ForensicsReport.objects.exclude(pk=first.pk).get()
    assert second.state == data_state(election) != first.state
    assert f"/forensics/{second.pk}/fingerprint.svg" in page
    assert client.get(old_figure).status_code == 200


def test_while_a_report_is_computed_the_last_one_is_shown_and_none_other_starts(
    election: Election, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = Client()
    client.get(forensics_url(election))
    started: list[int] = []
    monkeypatch.setattr(
        forensics_reports, "run_in_background", lambda function, report_id: started.append(1)
    )
    Assignment.objects.filter(pk=Assignment.objects.order_by("pk").first().pk).delete()
    page = text(client.get(forensics_url(election)))
    assert started == [1]
    assert 'data-state="computing"' in page and "New data has arrived" in page
    assert 'hx-trigger="every 3s"' in page
    assert 'data-state="ready"' in page  # the earlier report, still shown
    # Data changes again while the computation runs: nobody starts a second one.
    Assignment.objects.filter(pk=Assignment.objects.order_by("pk").first().pk).delete()
    page = text(client.get(forensics_url(election)))
    assert started == [1]
    assert ForensicsReport.objects.filter(status="computing").count() == 1
    # A computation that died with its process is taken over.
    ForensicsReport.objects.filter(status="computing").update(
        started_at=timezone.now() - forensics_reports.ABANDONED_AFTER * 2
    )
    client.get(forensics_url(election))
    assert started == [1, 1]
    assert ForensicsReport.objects.get(status="computing").state == data_state(election)


def test_an_outdated_report_is_brought_up_to_date_at_most_every_interval(
    election: Election, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(forensics_reports, "REFRESH_INTERVAL", datetime.timedelta(minutes=5))
    client = Client()
    client.get(forensics_url(election))
    first = ForensicsReport.objects.get()
    Assignment.objects.filter(pk=Assignment.objects.order_by("pk").first().pk).delete()
    page = text(client.get(forensics_url(election)))
    assert ForensicsReport.objects.get() == first  # too soon: nothing started
    assert 'data-state="waiting"' in page and 'hx-trigger="every 30s"' in page
    assert 'data-state="ready"' in page
    ForensicsReport.objects.filter(pk=first.pk).update(
        finished_at=timezone.now() - datetime.timedelta(minutes=6)
    )
    page = text(client.get(forensics_url(election)))
    assert ForensicsReport.objects.count() == 2
    assert 'data-state="waiting"' not in page and "New data has arrived" not in page


def test_an_election_without_official_results_says_so(tmp_path: Path) -> None:
    election = synthetic_election(tmp_path / "synth", official=False)
    response = Client().get(forensics_url(election))
    assert response.status_code == 200
    assert "No official per-station results have been published" in text(response)
    assert not ForensicsReport.objects.exists()
    observed = Client().get(forensics_url(election, "observed"))
    assert 'data-state="ready"' in text(observed)


def test_figures_that_cannot_be_tested_give_the_reason(election: Election) -> None:
    template = election.template
    template.statistics = {}
    template.save()
    page = text(Client().get(forensics_url(election)))
    assert 'data-state="failed"' in page
    assert "does not say what the statistics read" in page
    assert ForensicsReport.objects.get().status == "failed"


def test_bad_requests_are_refused_and_compute_nothing(election: Election) -> None:
    response = Client().get(forensics_url(election, "rumours"))
    assert response.status_code == 400
    assert "Unknown figures" in text(response)
    assert Client().get(reverse("forensics", args=["nowhere"])).status_code == 404
    assert Client().get(reverse("pvt", args=["nowhere"])).status_code == 404
    assert not ForensicsReport.objects.exists()
    Client().get(forensics_url(election))
    report = ForensicsReport.objects.get()
    for args in (
        [election.slug, report.pk, "nothing"],
        [election.slug, report.pk + 1, "fingerprint"],
        ["nowhere", report.pk, "fingerprint"],
    ):
        assert Client().get(reverse("forensics_figure_svg", args=args)).status_code == 404
        assert Client().get(reverse("forensics_figure_png", args=args)).status_code == 404


# --- PVT ---------------------------------------------------------------------------------


def pvt_url(election: Election) -> str:
    return reverse("pvt", args=[election.slug])


def draw(client: Client, election: Election, **fields: object) -> Any:
    data = {"margin": "2", "confidence": "0.95", "share": "50", "seed": "7", "size": "90"}
    data.update({k: str(v) for k, v in fields.items()})
    return client.post(reverse("pvt_draw", args=[election.slug]), data)


def test_the_design_follows_the_ndi_formula_for_everyone(
    election: Election, people: dict[str, User | None]
) -> None:
    frame = registry_frame(election)
    voters = int(frame.registered.sum())
    for role in ROLES:
        client = client_of(people, role)
        response = client.get(pvt_url(election), {"margin": "2", "confidence": "0.99",
                                                  "share": "40"})  # fmt: skip
        assert response.status_code == 200, role
        page = text(response)
        n = ndi_sample_size(voters, 0.02, 2.58, 0.4)
        assert f'data-value="voters-needed">{n:,.0f}<' in page, role
        assert "n = P(1 − P) / ((E/Z)² + P(1 − P)/N)" in page
        assert ('name="seed"' in page) == (role in DRAWERS), role


def test_only_analysts_and_administrators_draw(
    election: Election, people: dict[str, User | None]
) -> None:
    for role in ROLES:
        if role not in DRAWERS:
            assert draw(client_of(people, role), election).status_code == 403, role
    assert not PvtPlan.objects.exists()
    response = draw(client_of(people, "analyst"), election)
    assert response.status_code == 303 and response["Location"] == pvt_url(election)
    plan = PvtPlan.objects.get()
    assert plan.sample_size == 90 and plan.seed == 7 and plan.margin == pytest.approx(0.02)
    assert plan.drawn_by == people["analyst"]
    assert PvtSampleStation.objects.filter(plan=plan).count() == 90
    strata = list(plan.strata.order_by("position"))
    assert sum(s.population for s in strata) == STATIONS
    assert sum(s.allocated for s in strata) == 90
    assert [s.name for s in strata] == list(registry_frame(election).region_names)
    # The plan is stable: drawing again is refused and changes nothing.
    sample = set(PvtSampleStation.objects.values_list("station_id", flat=True))
    again = draw(client_of(people, "administrator"), election, seed=8)
    assert again.status_code == 400
    assert "already been drawn" in text(again)
    assert set(PvtSampleStation.objects.values_list("station_id", flat=True)) == sample


def test_the_same_seed_draws_the_same_sample(
    election: Election, people: dict[str, User | None]
) -> None:
    draw(client_of(people, "analyst"), election, seed=11)
    first = set(PvtSampleStation.objects.values_list("station_id", flat=True))
    PvtPlan.objects.all().delete()
    draw(client_of(people, "administrator"), election, seed=11)
    assert set(PvtSampleStation.objects.values_list("station_id", flat=True)) == first
    PvtPlan.objects.all().delete()
    draw(client_of(people, "administrator"), election, seed=12)
    assert set(PvtSampleStation.objects.values_list("station_id", flat=True)) != first


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"margin": "0"}, 'data-error-field="margin"'),
        ({"margin": "abc"}, 'data-error-field="margin"'),
        ({"share": "100"}, 'data-error-field="share"'),
        ({"confidence": "0.9"}, 'data-error-field="confidence"'),
        ({"seed": "-1"}, 'data-error-field="seed"'),
        ({"seed": str(2**63)}, 'data-error-field="seed"'),
        ({"seed": ""}, 'data-error-field="seed"'),
        ({"size": "0"}, 'data-error-field="size"'),
        ({"size": str(STATIONS + 1)}, f"between 1 and {STATIONS} stations"),
        ({"size": "3"}, "too small for 2 stations in each of"),
    ],
)
def test_bad_draws_are_refused_clearly_and_store_nothing(
    election: Election, people: dict[str, User | None], fields: dict[str, str], expected: str
) -> None:
    response = draw(client_of(people, "analyst"), election, **fields)
    assert response.status_code == 400
    page = text(response)
    assert expected in page
    assert 'role="alert"' in page
    assert not PvtPlan.objects.exists()


def test_a_bad_design_preview_is_refused_clearly(election: Election) -> None:
    response = Client().get(pvt_url(election), {"margin": "-1", "confidence": "0.95",
                                                "share": "50"})  # fmt: skip
    assert response.status_code == 400
    assert 'data-error-field="margin"' in text(response)


def test_progress_and_estimate_beside_the_official_result(
    election: Election, people: dict[str, User | None]
) -> None:
    draw(client_of(people, "analyst"), election, size=150)
    plan = PvtPlan.objects.get()
    sample = set(PvtSampleStation.objects.values_list("station_id", flat=True))
    reported = sample & set(observed_station_figures(election).rows.tolist())
    assert 0 < len(reported) < len(sample)
    for role in ROLES:
        response = client_of(people, role).get(pvt_url(election))
        assert response.status_code == 200
        page = text(response)
        assert f'data-value="reported">{len(reported)}<' in page, role
        assert 'data-row="turnout"' in page
        assert page.count('data-row="option"') == 2
        assert 'data-column="official"' in page  # official results are published
        # The list of sample stations goes to those who send observers there.
        listed = 'data-table="sample"' in page
        assert listed == (role in {"coordinator", "analyst", "administrator"}), role
    by_stratum = dict(
        PvtSampleStation.objects.filter(station_id__in=reported)
        .values_list("stratum__position")
        .annotate(n=Count("pk"))
    )
    page = text(Client().get(pvt_url(election)))
    for stratum in plan.strata.all():
        row = re.search(rf'<tr data-stratum="{stratum.position}">(.*?)</tr>', page, re.S)
        assert row is not None
        assert f'data-value="stratum-reported">{by_stratum.get(stratum.position, 0)}<' in row[1]


def test_without_official_results_the_estimate_stands_alone(
    tmp_path: Path, people: dict[str, User | None]
) -> None:
    election = synthetic_election(tmp_path / "synth", official=False)
    draw(client_of(people, "administrator"), election, size=150)
    page = text(Client().get(pvt_url(election)))
    assert 'data-row="turnout"' in page and page.count('data-row="option"') == 2
    assert 'data-column="official"' not in page
    assert "No official result has been published yet" in page


def test_before_any_report_the_page_says_so(tmp_path: Path, people: dict[str, User | None]) -> None:
    election = synthetic_election(tmp_path / "synth", copies=False, official=False)
    draw(client_of(people, "administrator"), election, size=60)
    page = text(Client().get(pvt_url(election)))
    assert 'data-value="reported">0<' in page
    assert "No sample station has reported yet" in page
    assert 'data-row="option"' not in page
    # Nothing to test either, and the forensics page says why.
    forensics = text(Client().get(forensics_url(election, "observed")))
    assert 'data-state="failed"' in forensics
    assert "No station has complete figures yet." in forensics


def test_estimates_match_the_cli_estimator(election: Election, people: dict[str, Any]) -> None:
    """One implementation: the page's numbers are core.pvt's on the same stations."""
    from pollwatch.analysis.pvt_progress import plan_progress
    from pollwatch.core.pvt import pvt_estimate

    draw(client_of(people, "analyst"), election, size=150)
    plan = PvtPlan.objects.get()
    progress = plan_progress(plan)
    sample = dict(plan.stations.values_list("station_id", "stratum__position"))
    observed = observed_station_figures(election)
    keep = np.flatnonzero(np.isin(observed.rows, list(sample)))
    taken = observed.take(keep)
    stratum = np.array([sample[int(s)] for s in taken.rows], dtype=np.intp)
    population = np.array([s.population for s in plan.strata.order_by("position")])
    expected = pvt_estimate(taken.options, taken.counted, taken.issued, taken.registered,
                            stratum, population)  # fmt: skip
    assert [row.estimate for row in progress.options] == pytest.approx(
        expected.shares.value.tolist()
    )
    assert progress.turnout is not None
    assert progress.turnout.moe99 == pytest.approx(float(expected.turnout.moe99))


def test_without_a_size_the_design_s_is_drawn(
    election: Election, people: dict[str, User | None]
) -> None:
    from pollwatch.analysis.pvt_plan import design, frame_summary

    page = text(client_of(people, "analyst").get(pvt_url(election)))
    planned = design(frame_summary(election), 0.02, "0.95", 0.5)
    # The formula asks for fewer stations than two in every region: the draw takes the least.
    assert planned.stations_needed < planned.minimum_stations == planned.suggested_size
    assert f'data-value="minimum-stations">{planned.minimum_stations}<' in page
    assert draw(client_of(people, "analyst"), election, size="").status_code == 303
    assert PvtPlan.objects.get().sample_size == planned.suggested_size


def test_a_draw_is_in_the_audit_log(election: Election, people: dict[str, User | None]) -> None:
    from pollwatch.accounts.models import AuditEntry

    draw(client_of(people, "analyst"), election, seed=5)
    entry = AuditEntry.objects.get(action="pvt_plan.draw")
    assert entry.after["seed"] == 5 and entry.after["sample_size"] == 90


def test_progress_is_recounted_at_most_every_few_seconds(
    election: Election, people: dict[str, User | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pollwatch.analysis import pvt_progress

    draw(client_of(people, "analyst"), election, size=150)
    plan = PvtPlan.objects.get()
    first = pvt_progress.plan_progress(plan)
    # The cache hands out copies: the time it was counted tells them apart.
    assert pvt_progress.plan_progress(plan).computed_at == first.computed_at  # the same data
    Assignment.objects.filter(pk=Assignment.objects.order_by("pk").first().pk).delete()
    # New data, but counted a moment ago.
    assert pvt_progress.plan_progress(plan).computed_at == first.computed_at
    monkeypatch.setattr(pvt_progress, "REFRESH_SECONDS", 0)
    assert pvt_progress.plan_progress(plan).computed_at > first.computed_at


def test_the_sample_downloads_as_the_cli_reads_it(
    election: Election, people: dict[str, User | None], tmp_path: Path
) -> None:
    """The page and `pollwatch pvt estimate` on the downloaded sample give the same estimate."""
    import io
    import json

    from django.core.management import call_command

    from pollwatch.analysis.pvt_progress import plan_progress

    url = reverse("pvt_sample_csv", args=[election.slug])
    assert client_of(people, "analyst").get(url).status_code == 404  # nothing drawn yet
    draw(client_of(people, "analyst"), election, size=150)
    assert Client().get(url).status_code == 302  # to log in
    for role in ("observer", "data_clerk"):
        assert client_of(people, role).get(url).status_code == 403
    response = client_of(people, "coordinator").get(url)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    sample = tmp_path / "sample.csv"
    sample.write_bytes(response.content)
    assert len(response.content.decode().splitlines()) == 151
    out = io.StringIO()
    call_command("pvt", "estimate", "--election", election.slug, "--sample", str(sample),
                 "--json", stdout=out, stderr=io.StringIO())  # fmt: skip
    cli = json.loads(out.getvalue())
    page = plan_progress(PvtPlan.objects.get())
    assert cli["reported"] == page.reported
    assert [o["estimate"] for o in cli["options"]] == pytest.approx(
        [row.estimate for row in page.options]
    )
    assert [o["moe95"] for o in cli["options"]] == pytest.approx(
        [row.moe95 for row in page.options]
    )


def test_only_the_newest_reports_are_kept(election: Election) -> None:
    client = Client()
    for _ in range(forensics_reports.KEPT_REPORTS + 2):
        client.get(forensics_url(election))
        Assignment.objects.filter(pk=Assignment.objects.order_by("pk").first().pk).delete()
    kept = ForensicsReport.objects.order_by("pk")
    assert kept.count() == forensics_reports.KEPT_REPORTS
    assert ForensicsFigure.objects.exclude(report__in=kept).count() == 0
    assert client.get(forensics_url(election)).status_code == 200


def test_an_election_without_stations_cannot_be_sampled(
    people: dict[str, User | None],
) -> None:
    from pollwatch.registry.protocol_templates import load_shipped_template
    from tests.web.factories import build_small_election

    election = build_small_election().election
    election.template = load_shipped_template("kz-referendum")  # type: ignore[assignment]
    election.save()
    election.stations.all().delete()
    page = client_of(people, "analyst").get(pvt_url(election))
    assert page.status_code == 200
    assert "no polling stations with registered voters" in text(page)
    response = draw(client_of(people, "analyst"), election)
    assert response.status_code == 400
    assert "no polling stations with registered voters" in text(response)
    assert not PvtPlan.objects.exists()


def test_a_broken_template_is_reported_not_a_crash(people: dict[str, User | None]) -> None:
    from tests.web.factories import build_small_election

    election = build_small_election().election  # its template has no kind: not loadable
    page = client_of(people, "analyst").get(pvt_url(election))
    assert page.status_code == 200 and "template field" in text(page)
    response = draw(client_of(people, "analyst"), election)
    assert response.status_code == 400 and "template field" in text(response)
    assert not PvtPlan.objects.exists()
