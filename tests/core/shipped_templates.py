"""The protocol templates shipped in pollwatch/protocol_templates, parsed by the core parser:
tests compare against these rather than restating what the TOML files say."""

from __future__ import annotations

from pathlib import Path

import pollwatch
from pollwatch.core.protocol import ProtocolTemplateSpec, parse_template

SHIPPED = Path(pollwatch.__file__).parent / "protocol_templates"


def shipped(key: str) -> ProtocolTemplateSpec:
    path = SHIPPED / f"{key}.toml"
    return parse_template(path.read_text(encoding="utf-8"), str(path))
