"""An election's per-station figures from the database, as the forensic tests and PVT read them.

The same `StationFigures` a results file gives (``core.forensics.source``), built from the
stations' current official results or from the observers' consensus: V, G and R through the
template's [statistics] quantities, each option's votes, and each station's region — its
ancestor under the central commission. So every test and the PVT serve a file and an election
in the database alike, through one code path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from django.utils.translation import gettext as _

from pollwatch.core.crosscheck import consensus
from pollwatch.core.forensics.source import StationFigures
from pollwatch.core.protocol import ProtocolTemplateSpec, Statistics
from pollwatch.findings.columns import Column, figure_columns, figures_matrix, read_columns
from pollwatch.findings.inputs import load_hierarchy, load_inputs
from pollwatch.official.models import OfficialResult
from pollwatch.registry.models import BallotOption, Commission, Election, PollingStation
from pollwatch.registry.protocol_templates import spec_of


class ElectionFiguresError(ValueError):
    """The election cannot give the figures asked for (no [statistics], no results)."""


@dataclass(frozen=True)
class _Places:
    station_ids: npt.NDArray[np.int64]  # sorted
    region: npt.NDArray[np.intp]  # per station, index into region_names
    region_names: tuple[str, ...]
    codes: list[str]  # per station


def official_station_figures(election: Election) -> StationFigures:
    """The current official results of every station that has them, in station id order."""
    template = spec_of(election.template)
    statistics = _statistics(election, template)
    read = read_columns(
        [Column("station", "r.station_id"), *figure_columns(template.line_keys, "r")],
        f"FROM {OfficialResult._meta.db_table} AS r "
        "WHERE r.election_id = %s AND r.current AND r.station_id IS NOT NULL",
        [election.pk],
    )
    values, missing = figures_matrix(read, template.line_keys)
    if not read["station"].size:
        raise ElectionFiguresError(
            _("%(election)s: no official station results imported yet (pollwatch import-official)")
            % {"election": election.slug}
        )
    return _figures(
        election, template, statistics, read["station"], values, missing, _("official results")
    )


def observed_station_figures(election: Election) -> StationFigures:
    """The observers' consensus figures of every station where the copies agree on every line."""
    template = spec_of(election.template)
    statistics = _statistics(election, template)
    inputs = load_inputs(election, template)
    agreed = consensus(inputs.copies)
    station_ids = inputs.hierarchy.station_id()[agreed.station]
    return _figures(
        election,
        template,
        statistics,
        station_ids,
        agreed.value,
        ~agreed.agreed,
        _("observers' consensus"),
    )


def _statistics(election: Election, template: ProtocolTemplateSpec) -> Statistics:
    if template.statistics is None:
        raise ElectionFiguresError(
            _(
                "%(election)s: its protocol template %(template)s does not say what the "
                "statistics read; add a [statistics] table (registered, issued, counted)"
            )
            % {"election": election.slug, "template": template.key}
        )
    return template.statistics


def _figures(
    election: Election,
    template: ProtocolTemplateSpec,
    statistics: Statistics,
    station_ids: npt.NDArray[np.int64],
    values: npt.NDArray[np.int64],
    missing: npt.NDArray[np.bool_],
    source: str,
) -> StationFigures:
    """Rows of whole protocols (stations × template lines); incomplete rows are left out."""
    needed = {
        *statistics.registered.line_keys,
        *statistics.issued.line_keys,
        *statistics.counted.line_keys,
        *template.option_keys,
    }
    columns = [i for i, key in enumerate(template.line_keys) if key in needed]
    complete = ~missing[:, columns].any(axis=1)
    order = np.argsort(station_ids[complete], kind="stable")
    station_ids = station_ids[complete][order]
    values = values[complete][order]
    places = _places(election, station_ids)
    by_line = {key: values[:, i] for i, key in enumerate(template.line_keys)}
    options = np.stack([by_line[key] for key in template.option_keys], axis=1)
    names = _option_names(election, template)
    return StationFigures(
        source=f"{election.slug} ({source})",
        codes=places.codes,
        rows=station_ids,
        region=places.region,
        region_names=places.region_names,
        registered=statistics.registered.evaluate(by_line),
        issued=statistics.issued.evaluate(by_line),
        counted=statistics.counted.evaluate(by_line),
        options=options.reshape(len(station_ids), len(names)),
        option_names=names,
        leader=names[int(np.argmax(options.sum(axis=0)))] if len(station_ids) else names[0],
    )


def _places(election: Election, station_ids: npt.NDArray[np.int64]) -> _Places:
    """Codes and regions of the given stations (sorted ids, all in the election)."""
    hierarchy = load_hierarchy(election)
    position = np.searchsorted(hierarchy.station_id(), station_ids)
    region_commission = hierarchy.station_region()[position]
    regions, region = np.unique(region_commission, return_inverse=True)
    region_ids = hierarchy.commission_id()[regions].tolist()
    names = dict(Commission.objects.filter(pk__in=region_ids).values_list("pk", "name"))
    # All the election's codes: a list of a million ids would not fit in one SQLite query.
    codes = dict(PollingStation.objects.filter(election=election).values_list("pk", "code"))
    return _Places(
        station_ids=station_ids,
        region=region.astype(np.intp),
        region_names=tuple(names[pk] for pk in region_ids),
        codes=[codes[pk] for pk in station_ids.tolist()],
    )


def _option_names(election: Election, template: ProtocolTemplateSpec) -> tuple[str, ...]:
    """The ballot options' names where the election gives them, else the template's labels."""
    named = dict(BallotOption.objects.filter(election=election).values_list("line_key", "name"))
    return tuple(named.get(line.key) or line.label("en") for line in template.option_lines)


def registry_frame(election: Election) -> StationFigures:
    """Every station of the registry as a PVT sampling frame: codes, regions, registered voters.

    A sample is drawn before anything is counted, so the frame holds no results: its figures
    are zero, and only ``codes``, ``rows`` (station ids), ``region`` and ``registered`` count.
    """
    hierarchy = load_hierarchy(election)
    station_ids = hierarchy.station_id()
    places = _places(election, station_ids)
    registered = dict(
        PollingStation.objects.filter(election=election).values_list("pk", "registered_voters")
    )
    template = spec_of(election.template)
    names = _option_names(election, template)
    zeros = np.zeros(station_ids.size, dtype=np.int64)
    return StationFigures(
        source=f"{election.slug} ({_('registry')})",
        codes=places.codes,
        rows=station_ids,
        region=places.region,
        region_names=places.region_names,
        registered=np.array([registered[pk] for pk in station_ids.tolist()], dtype=np.int64),
        issued=zeros,
        counted=zeros,
        options=np.zeros((station_ids.size, len(names)), dtype=np.int64),
        option_names=names,
        leader=names[0],
    )
