"""Canonical bytes of many protocol copies at once, exactly as ``canonical`` builds them for one.

A copy has two canonical texts: its body (whose SHA-256 recognises a retry, ``body_sha256``)
and its log record (the leaf sealed in the transparency log). ``CopyEncoder`` asks
``canonical.copy_body`` and ``canonical.copy_record`` once, for a copy of placeholders, encodes
the result with the same RFC 8785 encoder, and cuts the text at the placeholders into a format
string; each copy's values are then put back in their canonical spelling (whole numbers,
``true``/``false``, codes as JSON strings). A million copies cost two string formats and two
hashes each, not two canonical encodings — and a test holds the result to ``canonical``'s own.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence

from pollwatch.accreditation.models import Organisation
from pollwatch.ledger.appending import canonical_bytes
from pollwatch.protocols import canonical
from pollwatch.protocols.models import ProtocolCopy
from pollwatch.registry.models import Election, PollingStation

_STATION = "station-placeholder"
_ORGANISATION = "organisation-placeholder"
_ID = uuid.UUID("00000000-0000-4000-8000-0000c0ffee00")
_FIGURE = 8_000_000_000_000_000  # + the line's position: no figure is this large


class CopyEncoder:
    """Body and log record of the election's copies received at ``received_at``."""

    def __init__(
        self, election: Election, line_keys: Sequence[str], received_at: datetime.datetime
    ) -> None:
        self.line_keys = tuple(line_keys)
        marks = {key: _FIGURE + i for i, key in enumerate(self.line_keys)}
        body = canonical.copy_body(
            election_slug=election.slug,
            station_code=_STATION,
            figures=marks,
            all_members_signed=True,
            certified=False,
            photo_sha256s=[],
            supersedes=None,
        )
        placeholder = ProtocolCopy(
            id=_ID,
            election=election,
            station=PollingStation(code=_STATION),
            organisation=Organisation(code=_ORGANISATION),
            figures=marks,
            all_members_signed=True,
            certified=False,
            received_at=received_at,
        )
        record = canonical.copy_record(placeholder, photo_sha256s=[])
        # name → (the key before the value, the value's placeholder): keys anchor the values.
        values = {
            "station": ('"station":', json_string(_STATION)),
            "signed": ('"all_members_signed":', "true"),
            "certified": ('"certified":', "false"),
            **{key: (f"{json_string(key)}:", str(mark)) for key, mark in marks.items()},
        }
        # Arguments of both formats: station, signed, certified, the lines, id, organisation.
        self._argument = {name: i for i, name in enumerate(values)}
        self._argument |= {"id": len(values), "organisation": len(values) + 1}
        self._body = self._format(canonical.canonical_bytes(body).decode("utf-8"), values)
        self._record = self._format(
            canonical_bytes(record, canonical.RECORD_KIND).decode("utf-8"),
            {
                **values,
                "id": ('"id":', json_string(str(_ID))),
                "organisation": ('"organisation":', json_string(_ORGANISATION)),
            },
        )
        self._strings: dict[str, str] = {}

    def _format(self, text: str, values: dict[str, tuple[str, str]]) -> str:
        spans = []
        for name, (anchor, value) in values.items():
            if text.count(anchor + value) != 1:
                raise AssertionError(f"canonical copy text: cannot place {name} in {text}")
            start = text.index(anchor + value) + len(anchor)
            spans.append((start, start + len(value), name))
        parts, end = [], 0
        for start, stop, name in sorted(spans):
            parts.append(_braces(text[end:start]) + "{" + str(self._argument[name]) + "}")
            end = stop
        return "".join(parts) + _braces(text[end:])

    def texts(
        self,
        copy_id: str,
        station: str,
        organisation: str,
        signed: bool,
        certified: bool,
        figures: Sequence[str],
    ) -> tuple[str, str]:
        """(body, log record) as canonical text; ``copy_id`` with hyphens, ``figures`` the
        whole numbers as text without leading zeros, in the template's order."""
        arguments = (
            self._string(station),
            "true" if signed else "false",
            "true" if certified else "false",
            *figures,
            f'"{copy_id}"',
            self._string(organisation),
        )
        return self._body.format(*arguments), self._record.format(*arguments)

    def _string(self, text: str) -> str:
        literal = self._strings.get(text)
        if literal is None:
            literal = self._strings[text] = json_string(text)
        return literal


def json_string(text: str) -> str:
    """``text`` as a canonical JSON string literal, quotes included."""
    return canonical.canonical_bytes({"": text}).decode("utf-8")[4:-1]


def _braces(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")
