"""The commission hierarchy and the polling stations of a synthetic election.

Regions → territorial commissions → stations. Every per-station quantity is drawn as one
NumPy array; Python loops only run over regions and territorials (at most a few thousand).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.dtypes import StringDType
from numpy.typing import NDArray

from pollwatch.core.synth.apportion import apportion
from pollwatch.core.synth.geography import (
    CITY_DISTRICTS,
    KAZAKHSTAN_REGIONS,
    LATITUDE_RANGE,
    LONGITUDE_RANGE,
    STREETS,
    TOWNS,
    RegionProfile,
    village_names,
)
from pollwatch.core.synth.params import SynthParams

# Share of an oblast's territorials that are towns rather than rural districts, per unit of
# the oblast's urban population share (Akmola, half urban, gets three towns in twenty).
TOWN_TERRITORIALS_PER_URBAN_SHARE = 0.3
# Relative number of stations: the regional capital is big, other towns middling.
CAPITAL_WEIGHT, TOWN_WEIGHT, DISTRICT_WEIGHT = 2.2, 1.5, 1.0
# Share of a rural district's stations that are in its (urban) district centre.
DISTRICT_CENTRE_SHARE = 0.12
# Territorials of one kind still differ in size: gamma weights of mean 1 with this shape.
TERRITORIAL_SIZE_SHAPE = 6.0
# Registered voters: urban stations 300–3,000 (mean ~2,000), rural 25–2,500 (mean ~600).
URBAN_SIZE = (300, 3_000, 5.0, 3.0)  # low, high, beta a, beta b
RURAL_SIZE = (25, 2_500, 1.4, 4.6)
# Scatter in degrees: territorial centres within an oblast or a city; stations around them.
OBLAST_SPREAD, CITY_SPREAD = 1.2, 0.05
URBAN_STATION_SPREAD, RURAL_STATION_SPREAD = 0.02, 0.25
COORDINATE_DECIMALS = 5


@dataclass(frozen=True)
class Structure:
    regions: tuple[RegionProfile, ...]
    region_codes: tuple[str, ...]
    territorial_codes: tuple[str, ...]
    territorial_names: tuple[str, ...]
    territorial_region: NDArray[np.intp]
    station_territorial: NDArray[np.intp]
    station_number: NDArray[np.int64]
    station_urban: NDArray[np.bool_]
    registered: NDArray[np.int64]
    latitude: NDArray[np.float64]
    longitude: NDArray[np.float64]
    address: NDArray[np.str_]  # StringDType

    @property
    def station_region(self) -> NDArray[np.intp]:
        return self.territorial_region[self.station_territorial]

    @property
    def station_codes(self) -> NDArray[np.str_]:
        return self.station_number.astype(StringDType())


@dataclass(frozen=True)
class _Territorials:
    region: NDArray[np.intp]
    is_town: NDArray[np.bool_]  # every station urban
    weight: NDArray[np.float64]
    place: tuple[str, ...]  # the town a territorial is named after and centred on
    name: tuple[str, ...]


def generate_structure(params: SynthParams, rng: np.random.Generator) -> Structure:
    regions = _region_profiles(params.regions, rng)
    region_stations = apportion(
        np.array([params.stations]),
        np.zeros(len(regions), dtype=np.intp),
        np.array([r.station_weight for r in regions]),
    )
    # Territorials follow stations, so a region never has more territorials than stations.
    region_territorials = apportion(
        np.array([params.territorials]),
        np.zeros(len(regions), dtype=np.intp),
        (region_stations - 1).astype(np.float64),
    )
    territorials = _territorials(regions, region_territorials, rng)
    territorial_stations = apportion(region_stations, territorials.region, territorials.weight)
    station_territorial = np.repeat(
        np.arange(len(territorial_stations), dtype=np.intp), territorial_stations
    )
    urban = _urban_stations(territorials, territorial_stations, station_territorial, rng)
    latitude, longitude = _coordinates(regions, territorials, station_territorial, urban, rng)
    region_codes, territorial_codes = _codes(territorials.region, len(regions))
    return Structure(
        regions=regions,
        region_codes=region_codes,
        territorial_codes=territorial_codes,
        territorial_names=territorials.name,
        territorial_region=territorials.region,
        station_territorial=station_territorial,
        station_number=np.arange(1, params.stations + 1, dtype=np.int64),
        station_urban=urban,
        registered=_registered_voters(urban, rng),
        latitude=latitude,
        longitude=longitude,
        address=_addresses(territorials, station_territorial, urban, rng),
    )


def _region_profiles(count: int, rng: np.random.Generator) -> tuple[RegionProfile, ...]:
    """Kazakhstan's regions in order; beyond twenty, invented oblasts named after villages."""
    known = KAZAKHSTAN_REGIONS[:count]
    extra = count - len(known)
    if extra <= 0:
        return known
    # Village compounds include real region names (Aktobe): skip those.
    taken = {r.capital for r in KAZAKHSTAN_REGIONS}
    villages = [v for v in village_names() if v not in taken]
    names = _numbered([villages[i % len(villages)] for i in range(extra)])
    mean_weight = float(np.mean([r.station_weight for r in KAZAKHSTAN_REGIONS]))
    latitude = rng.uniform(*LATITUDE_RANGE, extra)
    longitude = rng.uniform(*LONGITUDE_RANGE, extra)
    urban_share = rng.uniform(0.2, 0.8, extra)
    turnout = rng.uniform(0.55, 0.85, extra)
    yes_share = rng.uniform(0.65, 0.88, extra)
    invented = tuple(
        RegionProfile(
            name=f"{name} Region",
            capital=name,
            latitude=float(latitude[i]),
            longitude=float(longitude[i]),
            is_city=False,
            station_weight=mean_weight,
            urban_share=float(urban_share[i]),
            turnout=float(turnout[i]),
            yes_share=float(yes_share[i]),
        )
        for i, name in enumerate(names)
    )
    return known + invented


def _territorials(
    regions: tuple[RegionProfile, ...],
    per_region: NDArray[np.int64],
    rng: np.random.Generator,
) -> _Territorials:
    region_of: list[int] = []
    is_town: list[bool] = []
    kind_weight: list[float] = []
    place: list[str] = []
    name: list[str] = []
    for index, (region, count) in enumerate(zip(regions, per_region.tolist(), strict=True)):
        region_of += [index] * count
        if region.is_city:
            districts = CITY_DISTRICTS.get(region.capital, (region.capital,))
            is_town += [True] * count
            kind_weight += [DISTRICT_WEIGHT] * count
            place += [region.capital] * count
            name += _numbered([f"{districts[i % len(districts)]} District" for i in range(count)])
            continue
        towns = _town_territorials(count, region.urban_share)
        others = [t for t in rng.permutation(TOWNS).tolist() if t != region.capital]
        places = [region.capital] + [others[i % len(others)] for i in range(count - 1)]
        is_town += [i < towns for i in range(count)]
        kind_weight += [
            CAPITAL_WEIGHT if i == 0 and towns else TOWN_WEIGHT if i < towns else DISTRICT_WEIGHT
            for i in range(count)
        ]
        place += places
        name += _numbered(
            [f"{p} City" if i < towns else f"{p} District" for i, p in enumerate(places)]
        )
    size = rng.gamma(TERRITORIAL_SIZE_SHAPE, 1 / TERRITORIAL_SIZE_SHAPE, len(region_of))
    return _Territorials(
        region=np.array(region_of, dtype=np.intp),
        is_town=np.array(is_town, dtype=np.bool_),
        weight=np.array(kind_weight) * size,
        place=tuple(place),
        name=tuple(name),
    )


def _town_territorials(count: int, urban_share: float) -> int:
    """The capital and a share of the others; a lone territorial is a mixed rural district."""
    if count == 1:
        return 0
    return min(count, max(1, round(count * urban_share * TOWN_TERRITORIALS_PER_URBAN_SHARE)))


def _numbered(names: list[str]) -> tuple[str, ...]:
    """Repeated names get a number from their second occurrence: "Yesil District No. 2"."""
    seen: dict[str, int] = {}
    numbered = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        numbered.append(name if seen[name] == 1 else f"{name} No. {seen[name]}")
    return tuple(numbered)


def _urban_stations(
    territorials: _Territorials,
    territorial_stations: NDArray[np.int64],
    station_territorial: NDArray[np.intp],
    rng: np.random.Generator,
) -> NDArray[np.bool_]:
    """Towns are all urban; a rural district's first stations are in its district centre."""
    centre = rng.binomial(territorial_stations, DISTRICT_CENTRE_SHARE)
    urban_count = np.where(territorials.is_town, territorial_stations, centre)
    first = np.cumsum(territorial_stations) - territorial_stations
    position = np.arange(len(station_territorial)) - first[station_territorial]
    return np.asarray(position < urban_count[station_territorial])


def _registered_voters(urban: NDArray[np.bool_], rng: np.random.Generator) -> NDArray[np.int64]:
    low, high, a, b = (np.where(urban, u, r) for u, r in zip(URBAN_SIZE, RURAL_SIZE, strict=True))
    return np.rint(low + (high - low) * rng.beta(a, b)).astype(np.int64)


def _coordinates(
    regions: tuple[RegionProfile, ...],
    territorials: _Territorials,
    station_territorial: NDArray[np.intp],
    urban: NDArray[np.bool_],
    rng: np.random.Generator,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    region_latitude = np.array([r.latitude for r in regions])[territorials.region]
    region_longitude = np.array([r.longitude for r in regions])[territorials.region]
    is_city = np.array([r.is_city for r in regions])[territorials.region]
    # The regional capital (first territorial of an oblast) sits at the region's centre.
    first = np.r_[True, territorials.region[1:] != territorials.region[:-1]]
    spread = np.where(is_city, CITY_SPREAD, np.where(first, 0.0, OBLAST_SPREAD))
    count = len(territorials.region)
    centre_latitude = region_latitude + rng.normal(0.0, 1.0, count) * spread
    # A degree of longitude is shorter than one of latitude at Kazakhstan's latitudes.
    centre_longitude = region_longitude + rng.normal(0.0, 1.0, count) * spread * 1.6
    station_spread = np.where(urban, URBAN_STATION_SPREAD, RURAL_STATION_SPREAD)
    stations = len(station_territorial)
    latitude = (
        centre_latitude[station_territorial] + rng.normal(0.0, 1.0, stations) * station_spread
    )
    longitude = (
        centre_longitude[station_territorial]
        + rng.normal(0.0, 1.0, stations) * station_spread * 1.6
    )
    return (
        np.clip(latitude, *LATITUDE_RANGE).round(COORDINATE_DECIMALS),
        np.clip(longitude, *LONGITUDE_RANGE).round(COORDINATE_DECIMALS),
    )


def _addresses(
    territorials: _Territorials,
    station_territorial: NDArray[np.intp],
    urban: NDArray[np.bool_],
    rng: np.random.Generator,
) -> NDArray[np.str_]:
    """ "Settlement, street, building": urban stations in their town, rural ones in villages."""
    text = StringDType()
    stations = len(station_territorial)
    villages = np.array(village_names(), dtype=text)
    town = np.array(territorials.place, dtype=text)[station_territorial]
    village = villages[rng.integers(0, len(villages), stations)]
    street = np.array(STREETS, dtype=text)[rng.integers(0, len(STREETS), stations)]
    building = rng.integers(1, np.where(urban, 181, 61), stations).astype(text)
    address = np.strings.add(np.where(urban, town, village), ", ")
    address = np.strings.add(np.strings.add(address, street), ", ")
    return np.strings.add(address, building)


def _codes(
    territorial_region: NDArray[np.intp], regions: int
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """R01, R01-T001, …: zero-padded so that codes sort in the hierarchy's order."""
    region_width = max(2, len(str(regions)))
    region_codes = tuple(f"R{i + 1:0{region_width}d}" for i in range(regions))
    first = np.searchsorted(territorial_region, territorial_region)
    within = np.arange(len(territorial_region)) - first
    width = max(3, len(str(int(within.max()) + 1)))
    territorial_codes = tuple(
        f"{region_codes[r]}-T{k + 1:0{width}d}"
        for r, k in zip(territorial_region.tolist(), within.tolist(), strict=True)
    )
    return region_codes, territorial_codes
