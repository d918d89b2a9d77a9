"""The places a synthetic Kazakhstan-like election is drawn from.

Figures are rough and only need to be plausible: centres are the regional capitals, station
weights follow the real distribution of polling stations between regions, and the mean
turnout and Yes share per region echo the spread seen in Kazakhstan's recent referendums
(low in Almaty city, high in the south). Nothing here is official data.
"""

from __future__ import annotations

from dataclasses import dataclass

# Kazakhstan's rough bounding box: every coordinate is clipped into it.
LATITUDE_RANGE = (40.6, 55.4)
LONGITUDE_RANGE = (46.5, 87.3)


@dataclass(frozen=True)
class RegionProfile:
    name: str
    capital: str
    latitude: float
    longitude: float
    is_city: bool  # a city of republican significance: every station urban
    station_weight: float  # relative number of polling stations
    urban_share: float  # share of the population living in towns
    turnout: float  # regional mean turnout
    yes_share: float  # regional mean Yes share of valid votes


# The 17 oblasts and the three cities of republican significance, in the official order.
KAZAKHSTAN_REGIONS: tuple[RegionProfile, ...] = (
    RegionProfile("Abai Region", "Semey", 50.41, 80.25, False, 470, 0.55, 0.70, 0.76),
    RegionProfile("Akmola Region", "Kokshetau", 53.28, 69.39, False, 620, 0.50, 0.72, 0.78),
    RegionProfile("Aktobe Region", "Aktobe", 50.28, 57.17, False, 560, 0.65, 0.70, 0.77),
    RegionProfile("Almaty Region", "Konaev", 43.87, 77.07, False, 680, 0.30, 0.75, 0.80),
    RegionProfile("Atyrau Region", "Atyrau", 47.11, 51.92, False, 300, 0.50, 0.74, 0.79),
    RegionProfile("West Kazakhstan Region", "Oral", 51.23, 51.37, False, 480, 0.50, 0.72, 0.75),
    RegionProfile("Jambyl Region", "Taraz", 42.90, 71.37, False, 560, 0.40, 0.80, 0.82),
    RegionProfile("Jetisu Region", "Taldykorgan", 45.02, 78.37, False, 470, 0.40, 0.76, 0.80),
    RegionProfile("Karaganda Region", "Karaganda", 49.80, 73.10, False, 650, 0.85, 0.66, 0.74),
    RegionProfile("Kostanay Region", "Kostanay", 53.21, 63.62, False, 680, 0.55, 0.70, 0.75),
    RegionProfile("Kyzylorda Region", "Kyzylorda", 44.85, 65.51, False, 360, 0.45, 0.82, 0.85),
    RegionProfile("Mangystau Region", "Aktau", 43.65, 51.16, False, 250, 0.45, 0.60, 0.68),
    RegionProfile("Pavlodar Region", "Pavlodar", 52.29, 76.97, False, 520, 0.70, 0.68, 0.74),
    RegionProfile(
        "North Kazakhstan Region", "Petropavl", 54.87, 69.15, False, 600, 0.40, 0.74, 0.77
    ),
    RegionProfile("Turkistan Region", "Turkistan", 43.30, 68.25, False, 940, 0.20, 0.86, 0.88),
    RegionProfile("Ulytau Region", "Zhezkazgan", 47.78, 67.71, False, 130, 0.80, 0.73, 0.76),
    RegionProfile("East Kazakhstan Region", "Oskemen", 49.95, 82.61, False, 540, 0.65, 0.66, 0.73),
    RegionProfile("Astana", "Astana", 51.17, 71.45, True, 470, 1.0, 0.62, 0.72),
    RegionProfile("Almaty", "Almaty", 43.24, 76.89, True, 590, 1.0, 0.38, 0.66),
    RegionProfile("Shymkent", "Shymkent", 42.32, 69.59, True, 330, 1.0, 0.80, 0.84),
)

# Districts of the three big cities; their territorial commissions are named after them.
CITY_DISTRICTS: dict[str, tuple[str, ...]] = {
    "Astana": ("Almaty", "Baikonyr", "Yesil", "Saryarka", "Nura"),
    "Almaty": (
        "Alatau",
        "Almaly",
        "Auezov",
        "Bostandyk",
        "Zhetysu",
        "Medeu",
        "Nauryzbay",
        "Turksib",
    ),
    "Shymkent": ("Abai", "Al-Farabi", "Enbekshi", "Karatau", "Turan"),
}

# Towns: names for city and district territorials in the oblasts.
TOWNS: tuple[str, ...] = (
    "Akkol", "Aksu", "Aktogay", "Aksay", "Arkalyk", "Arys", "Atbasar", "Ayagoz", "Balkhash",
    "Beyneu", "Burabay", "Derzhavinsk", "Ekibastuz", "Esik", "Esil", "Zharkent", "Zhanaozen",
    "Zhitikara", "Kandyagash", "Karatau", "Kaskelen", "Kentau", "Khromtau", "Kulsary",
    "Lisakovsk", "Makinsk", "Merke", "Saran", "Sarkand", "Saryagash", "Satpaev", "Shakhtinsk",
    "Shardara", "Shchuchinsk", "Shu", "Stepnogorsk", "Talgar", "Temirtau", "Tekeli", "Ushtobe",
    "Uzynagash", "Zaysan", "Zhanatas", "Kordai", "Shieli", "Aral", "Kazaly", "Zhosaly",
    "Terenozek", "Shalkar", "Emba", "Temir", "Irgiz", "Kobda", "Martuk", "Oiyl", "Uil",
    "Bayganin", "Makat", "Dossor", "Inder", "Miyaly", "Zhympity", "Fedorovka", "Taskala",
    "Peremetnoe", "Kaztalovka", "Saikhin", "Karabutak", "Tobyl", "Uzunkol", "Auliekol",
    "Amangeldi", "Kamysty", "Sarykol", "Bulaevo", "Mamlyutka", "Timiryazev", "Kishkenekol",
    "Sergeevka", "Saumalkol", "Tayinsha", "Zerenda", "Ereymentau", "Zhaksy", "Egindykol",
    "Astrakhanka", "Balkashino", "Korgalzhyn", "Zhaltyr", "Kurchum", "Shemonaikha", "Glubokoe",
    "Ridder", "Kokpekty", "Urzhar", "Makanshy", "Bakhty", "Kurchatov", "Karaul", "Zhanasemey",
    "Lepsy", "Kabanbay", "Koktal", "Shelek", "Chundzha", "Bakanas", "Karabulak", "Kapal",
)  # fmt: skip

# Villages are named the way many Kazakh villages are: a colour or quality, then a feature.
VILLAGE_PREFIXES: tuple[str, ...] = (
    "Ak", "Kara", "Kok", "Sary", "Kyzyl", "Zhana", "Tas", "Bes", "Kos", "Orta", "Ulken", "Kishi",
)  # fmt: skip
VILLAGE_ROOTS: tuple[str, ...] = (
    "bulak", "su", "tobe", "zhar", "kol", "agash", "terek", "kuduk", "say", "tal", "ozek",
    "aul", "kum", "oba", "kain", "shoky",
)  # fmt: skip

STREETS: tuple[str, ...] = (
    "Abai Street", "Dostyk Street", "Tole Bi Street", "Kazybek Bi Street", "Aiteke Bi Street",
    "Kenesary Street", "Republic Avenue", "Tauelsizdik Avenue", "Zheltoksan Street",
    "Satpayev Street", "Baitursynov Street", "Auezov Street", "Zhambyl Street", "Kunaev Street",
    "Seifullin Street", "Momyshuly Street", "Al-Farabi Avenue", "Bukhar Zhyrau Avenue",
    "Makhambet Street", "Ualikhanov Street", "Musrepov Street", "Mailin Street",
    "Amangeldy Street", "Abylai Khan Avenue", "Kabanbay Batyr Avenue", "Raiymbek Avenue",
    "Turan Avenue", "Mangilik El Avenue", "Zhansugurov Street", "Beibitshilik Street",
    "Mektep Street", "Ortalyk Street", "Bereke Street", "Zhastar Street", "Birlik Street",
    "Bolashak Street", "Zhenis Street", "Zhibek Zholy Street", "Nauryz Street", "Kazakhstan Street",
)  # fmt: skip


def village_names() -> tuple[str, ...]:
    """Every prefix-root compound: Akbulak, Karasu, Koktobe, …"""
    return tuple(prefix + root for prefix in VILLAGE_PREFIXES for root in VILLAGE_ROOTS)
