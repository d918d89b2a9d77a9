"""Setting up an election: its calendar facts, languages, protocol template and ballot options.

``create_or_update_election`` is the one writer; ``load_election_file`` reads the same fields
from an ``election.toml`` (as ``pollwatch synth`` writes it):

    slug = "kz-2026"
    name = "Republican referendum 2026"
    kind = "referendum"              # or "election"
    date = 2026-03-15                # a TOML date, not a string
    time_zone = "Asia/Almaty"        # an IANA time-zone name
    languages = ["kk", "ru"]         # codes among the site's languages
    template = "kz-referendum"       # a protocol template's key

Other keys are ignored, so tools may keep their own notes in the file.
"""

from __future__ import annotations

import datetime
import tomllib
import zoneinfo
from collections.abc import Sequence
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction
from django.utils.translation import gettext as _

from pollwatch.core.protocol import ProtocolTemplateSpec, TemplateError
from pollwatch.registry.models import BallotOption, Election, ProtocolTemplate
from pollwatch.registry.protocol_templates import (
    load_shipped_template,
    shipped_template_keys,
    spec_of,
)

_SLUG_MAX, _NAME_MAX = 100, 300


class ElectionSpecError(ValueError):
    """An election's settings that cannot be used; names the field (and the file, if any)."""

    def __init__(self, field: str | None, problem: str, source: str | None = None) -> None:
        self.field = field
        self.problem = problem
        self.source = source
        where = [source] if source else []
        if field:
            where.append(_("field %(field)s") % {"field": field})
        super().__init__(": ".join([*where, problem]))

    def in_file(self, source: str) -> ElectionSpecError:
        return ElectionSpecError(self.field, self.problem, source)


def create_or_update_election(
    slug: str,
    name: str,
    kind: str,
    date: datetime.date,
    time_zone: str,
    languages: Sequence[str],
    template_key: str,
) -> Election:
    """Create the election, or update the one with this slug in place; returns it.

    The ballot options follow the template's option lines (named by their English label):
    options for lines the template no longer has are removed.
    """
    _check_slug(slug)
    _check_name(name)
    _check_kind(kind)
    _check_date(date)
    _check_time_zone(time_zone)
    _check_languages(languages)
    with transaction.atomic():
        template = _template(template_key)
        spec = _spec(template)
        if spec.kind != kind:
            raise ElectionSpecError(
                "template",
                _("template %(key)s has kind %(template_kind)s; expected one of kind %(kind)s")
                % {"key": template_key, "template_kind": spec.kind, "kind": kind},
            )
        election, _created = Election.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name.strip(),
                "kind": kind,
                "date": date,
                "time_zone": time_zone,
                "languages": list(languages),
                "template": template,
            },
        )
        _sync_ballot_options(election, spec)
    return election


def load_election_file(path: Path | str) -> Election:
    """Create or update the election described by an ``election.toml``."""
    source = str(path)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        problem = _("cannot read the file (%(error)s)") % {"error": err}
        raise ElectionSpecError(None, problem, source) from None
    except tomllib.TOMLDecodeError as err:
        problem = _("not valid TOML (%(error)s)") % {"error": err}
        raise ElectionSpecError(None, problem, source) from None
    fields = ("slug", "name", "kind", "date", "time_zone", "languages", "template")
    missing = [field for field in fields if field not in data]
    if missing:
        raise ElectionSpecError(
            missing[0],
            _("missing; expected the fields %(fields)s") % {"fields": ", ".join(fields)},
            source,
        )
    try:
        return create_or_update_election(
            slug=data["slug"],
            name=data["name"],
            kind=data["kind"],
            date=data["date"],
            time_zone=data["time_zone"],
            languages=data["languages"],
            template_key=data["template"],
        )
    except ElectionSpecError as err:
        raise err.in_file(source) from None


def _check_slug(slug: object) -> None:
    try:
        if not isinstance(slug, str) or len(slug) > _SLUG_MAX:
            raise ValidationError("")
        validate_slug(slug)
    except ValidationError:
        raise ElectionSpecError(
            "slug",
            _("%(value)r is not a slug; expected up to %(max)d letters, digits, - and _")
            % {"value": slug, "max": _SLUG_MAX},
        ) from None


def _check_name(name: object) -> None:
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > _NAME_MAX:
        raise ElectionSpecError(
            "name",
            _("%(value)r is not a name; expected a text of 1 to %(max)d characters")
            % {"value": name, "max": _NAME_MAX},
        )


def _check_kind(kind: object) -> None:
    if kind not in Election.Kind.values:
        raise ElectionSpecError(
            "kind",
            _("%(value)r is not a kind of election; expected one of %(kinds)s")
            % {"value": kind, "kinds": ", ".join(Election.Kind.values)},
        )


def _check_date(date: object) -> None:
    # A TOML date-time is a datetime, which is also a date: election day is a day.
    if not isinstance(date, datetime.date) or isinstance(date, datetime.datetime):
        raise ElectionSpecError(
            "date",
            _("%(value)r is not a date; expected a day such as 2026-03-15") % {"value": date},
        )


def _check_time_zone(time_zone: object) -> None:
    try:
        if not isinstance(time_zone, str) or not time_zone:
            raise ValueError(time_zone)
        zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ElectionSpecError(
            "time_zone",
            _("%(value)r is not a known time zone; expected an IANA name such as Asia/Almaty")
            % {"value": time_zone},
        ) from None


def _check_languages(languages: object) -> None:
    known = [code for code, _name in settings.LANGUAGES]
    codes = ", ".join(known)
    if isinstance(languages, str) or not isinstance(languages, Sequence) or not languages:
        raise ElectionSpecError(
            "languages",
            _("%(value)r is not a list of languages; expected one or more of %(codes)s")
            % {"value": languages, "codes": codes},
        )
    for language in languages:
        if language not in known:
            raise ElectionSpecError(
                "languages",
                _("%(value)r is not a language of this site; expected one of %(codes)s")
                % {"value": language, "codes": codes},
            )
    if len(set(languages)) != len(languages):
        raise ElectionSpecError(
            "languages", _("%(value)r lists a language twice") % {"value": list(languages)}
        )


def _template(key: object) -> ProtocolTemplate:
    if not isinstance(key, str) or not key:
        raise ElectionSpecError("template", _("%(value)r is not a template key") % {"value": key})
    template = ProtocolTemplate.objects.filter(key=key).first()
    if template is None:
        # A fresh installation has no rows yet: the shipped templates are always available.
        try:
            template = load_shipped_template(key)
        except TemplateError as err:
            raise ElectionSpecError("template", str(err)) from None
    if template is None:
        known = sorted(
            {*ProtocolTemplate.objects.values_list("key", flat=True), *shipped_template_keys()}
        )
        raise ElectionSpecError(
            "template",
            _("no protocol template %(key)r; expected one of %(known)s")
            % {"key": key, "known": ", ".join(known)},
        )
    return template


def _spec(template: ProtocolTemplate) -> ProtocolTemplateSpec:
    try:
        return spec_of(template)
    except TemplateError as err:
        raise ElectionSpecError("template", str(err)) from None


def _sync_ballot_options(election: Election, spec: ProtocolTemplateSpec) -> None:
    lines = spec.option_lines
    election.options.exclude(line_key__in=[line.key for line in lines]).delete()
    BallotOption.objects.bulk_create(
        [
            BallotOption(election=election, line_key=line.key, name=line.label("en"), position=n)
            for n, line in enumerate(lines, start=1)
        ],
        update_conflicts=True,
        unique_fields=["election", "line_key"],
        update_fields=["name", "position"],
    )
