"""Organisations and observers' names for a synthetic election: invented, never real people.

The organisations are fictional but of the kinds that observe a Kazakh referendum: parties,
domestic NGOs, the media, an international mission and a foreign observer group. Observers'
names are Kazakh and Russian given names with surnames in the matching gender's form.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OrganisationProfile:
    code: str
    name: str
    kind: str  # accreditation.models.OrganisationKind's values
    weight: float  # relative number of stations it covers
    share_with_mission: bool
    share_with_organisations: bool
    international: bool  # its observers speak English first


ORGANISATIONS: tuple[OrganisationProfile, ...] = (
    OrganisationProfile("adal-saylau", "Adal Saylau", "ngo", 3.0, True, True, False),
    OrganisationProfile("progress-party", "Party of Progress", "party", 2.5, True, False, False),
    OrganisationProfile("green-steppe", "Green Steppe Party", "party", 1.5, False, False, False),
    OrganisationProfile("erkin-dauys", "Erkin Dauys Civic Network", "ngo", 2.0, True, True, False),
    OrganisationProfile("steppe-herald", "Steppe Herald", "media", 0.6, True, True, False),
    OrganisationProfile(
        "ieom",
        "International Election Observation Mission",
        "international_mission",
        0.4,
        True,
        True,
        True,
    ),
    OrganisationProfile(
        "commonwealth-observers",
        "Commonwealth Observer Group",
        "foreign_observer_group",
        0.3,
        True,
        False,
        True,
    ),
)
# Beyond the named ones: numbered civic groups, each covering a little.
EXTRA_WEIGHT = 0.5


def organisation_profiles(count: int) -> tuple[OrganisationProfile, ...]:
    named = ORGANISATIONS[:count]
    extra = tuple(
        OrganisationProfile(
            f"civic-group-{number}",
            f"Civic Group No. {number}",
            "ngo",
            EXTRA_WEIGHT,
            True,
            False,
            False,
        )
        for number in range(1, count - len(named) + 1)
    )
    return named + extra


MALE_NAMES = (
    "Nurlan",
    "Yerlan",
    "Daniyar",
    "Askar",
    "Serik",
    "Arman",
    "Bauyrzhan",
    "Timur",
    "Ruslan",
    "Aidos",
    "Marat",
    "Dmitry",
    "Sergey",
    "Alexey",
    "Andrey",
    "Yerzhan",
    "Kairat",
    "Almas",
)
FEMALE_NAMES = (
    "Aigerim",
    "Dana",
    "Saule",
    "Gulnara",
    "Aliya",
    "Madina",
    "Zhanna",
    "Assel",
    "Dinara",
    "Aruzhan",
    "Olga",
    "Irina",
    "Natalya",
    "Yelena",
    "Ainur",
    "Kamila",
    "Zarina",
    "Botagoz",
)
# Masculine forms; the feminine adds "a" (Akhmetov → Akhmetova).
SURNAMES = (
    "Akhmetov",
    "Bekov",
    "Dzhaksybekov",
    "Ibraimov",
    "Kassymov",
    "Mukanov",
    "Nurpeisov",
    "Omarov",
    "Sadykov",
    "Tokayev",
    "Zhumabayev",
    "Abenov",
    "Ivanov",
    "Petrov",
    "Smirnov",
    "Kuznetsov",
    "Popov",
    "Seitkaliyev",
    "Utepov",
    "Yessenov",
    "Baimukhanov",
    "Tulegenov",
)
INTERNATIONAL_NAMES = (
    "Anna Schmidt",
    "John Carter",
    "Marie Dubois",
    "Piotr Nowak",
    "Elena Rossi",
    "Lars Nilsson",
    "Sofia Martins",
    "Tomas Novak",
    "Emily Clark",
    "Jan de Vries",
    "Katarzyna Wojcik",
    "Giorgi Beridze",
    "Ayse Yilmaz",
    "Mikko Virtanen",
    "Ines Garcia",
    "David Brown",
)
DOMESTIC_LANGUAGES = ("kk ru", "ru kk", "ru", "kk", "kk ru en")
INTERNATIONAL_LANGUAGES = ("en ru", "en", "en fr", "de en ru", "en kk ru")
