"""The Russian CEC's 2018 per-station file as official results, with its commission hierarchy.

The file names each station's region and territorial commission (tik); the hierarchy is built
from those names: a central commission (0), then the regions, then the territorials.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from pollwatch.core.crosscheck import Figures, Hierarchy
from pollwatch.core.protocol import ProtocolTemplateSpec, parse_template

TEMPLATES = Path(__file__).resolve().parents[3] / "src" / "pollwatch" / "protocol_templates"
_LINES = slice(3, 23)  # protocol lines 1–20, in the template's order


@dataclass(frozen=True)
class Russia2018:
    template: ProtocolTemplateSpec
    hierarchy: Hierarchy
    figures: Figures
    region_names: tuple[str, ...]

    @property
    def regions(self) -> np.ndarray:
        return self.hierarchy.level(1)


@cache
def load_2018(path: Path) -> Russia2018:
    """Read once per session, whichever test asks."""
    with zipfile.ZipFile(path) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".csv")]
        rows = list(csv.reader(io.StringIO(archive.read(name).decode("utf-8"))))[1:]
    figures = np.array([row[_LINES] for row in rows], dtype=np.int64)
    region_names, region = np.unique([row[0] for row in rows], return_inverse=True)
    _, tik = np.unique([f"{row[0]}\x1f{row[1]}" for row in rows], return_inverse=True)
    tik_region = np.unique(np.column_stack([tik, region]), axis=0)[:, 1]
    regions = len(region_names)
    parents = np.concatenate([[-1], np.zeros(regions), 1 + tik_region]).astype(np.intp)
    template = parse_template((TEMPLATES / "ru-president-2018.toml").read_text(), "ru-2018")
    return Russia2018(
        template=template,
        hierarchy=Hierarchy(parents, (1 + regions + tik).astype(np.intp)),
        figures=Figures.complete(figures),
        region_names=tuple(str(n) for n in region_names),
    )
