"""The election registry: what is being observed and where.

Commission and PollingStation rows carry a few totals (stations, registered voters) computed by
the structure import. They are derivable, but the overview pages of a million-station election
must not sum a million rows per request; the import is the only writer, so they cannot drift.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class ElectionKind(models.TextChoices):
    ELECTION = "election", _("Election")
    REFERENDUM = "referendum", _("Referendum")


class ProtocolTemplate(models.Model):
    """The lines of a count protocol in the law's order, and its control relations.

    Loaded from a TOML file (see pollwatch/protocol_templates/); `lines` and `relations`
    hold the parsed, validated data so that a template is data, never code.
    """

    key = models.SlugField(_("key"), max_length=100, unique=True)
    name = models.CharField(_("name"), max_length=300)
    kind = models.CharField(_("kind"), max_length=20, choices=ElectionKind.choices)
    # [{"key": str, "number": str, "label": {lang: str}, "option": bool}]
    lines = models.JSONField(_("lines"))
    # [{"expression": str, "severity": "error"|"warning", "description": {lang: str}}]
    relations = models.JSONField(_("control relations"))
    # What the forensic tests read on this protocol ({} when the template does not say).
    statistics = models.JSONField(_("statistics"), default=dict, blank=True)
    source = models.TextField(_("TOML source"), blank=True)
    # SHA-256 of the content above, kept by save(): a submission reads this instead of the
    # template's kilobytes, which a process keeps once per content (registry.current_templates).
    digest = models.CharField(_("content digest"), max_length=64, editable=False, default="")

    class Meta:
        verbose_name = _("protocol template")
        verbose_name_plural = _("protocol templates")

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, update_fields: Iterable[str] | None = None, **kwargs: Any) -> None:
        self.digest = template_digest(self)
        if update_fields is not None:
            update_fields = {*update_fields, "digest"}
        super().save(*args, update_fields=update_fields, **kwargs)


TEMPLATE_CONTENT = ("key", "name", "kind", "lines", "relations", "statistics", "source")


def template_digest(template: Any) -> str:
    """SHA-256 of a template's content (also of the migrations' historical rows)."""
    content = {name: getattr(template, name) for name in TEMPLATE_CONTENT}
    encoded = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()


class Election(models.Model):
    Kind = ElectionKind

    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    name = models.CharField(_("name"), max_length=300)
    kind = models.CharField(_("kind"), max_length=20, choices=ElectionKind.choices)
    date = models.DateField(_("election day"))
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    # Language codes in which the election's documents are written, e.g. ["kk", "ru"].
    languages = models.JSONField(_("languages"), default=list)
    template = models.ForeignKey(
        ProtocolTemplate, verbose_name=_("protocol template"), on_delete=models.PROTECT
    )
    # How long after an assignment's window an observer may still submit: protocols are
    # often signed hours after the count ends.
    submission_grace = models.DurationField(
        _("grace period after an assignment"), default=datetime.timedelta(hours=12)
    )
    # Whether every protocol copy must carry a valid signature by a registered device key.
    signatures_required = models.BooleanField(_("device signatures required"), default=False)

    class Meta:
        verbose_name = _("election")
        verbose_name_plural = _("elections")
        ordering = ["-date", "name"]

    def __str__(self) -> str:
        return self.name


class BallotOption(models.Model):
    """A candidate, a party or an answer (Yes/No); its votes are one line of the protocol."""

    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="options")
    line_key = models.CharField(_("protocol line"), max_length=100)
    name = models.CharField(_("name"), max_length=300)
    position = models.PositiveSmallIntegerField(_("position on the ballot"))

    class Meta:
        verbose_name = _("ballot option")
        verbose_name_plural = _("ballot options")
        ordering = ["election", "position"]
        constraints = [
            models.UniqueConstraint(fields=["election", "line_key"], name="option_line_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Commission(models.Model):
    """An election commission above the precinct level (central, regional, territorial, …).

    Any depth: `parent` is null at the top. `level` names the tier in the election's words.
    The precinct commission and its polling station are one row of PollingStation.
    """

    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="commissions")
    code = models.CharField(_("code"), max_length=255)
    name = models.CharField(_("name"), max_length=300)
    level = models.CharField(_("level"), max_length=50)
    depth = models.PositiveSmallIntegerField(_("depth"), default=0)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    # Totals over every station below, maintained by the structure import.
    station_count = models.PositiveIntegerField(_("stations"), default=0)
    registered_voters = models.PositiveBigIntegerField(_("registered voters"), default=0)

    class Meta:
        verbose_name = _("commission")
        verbose_name_plural = _("commissions")
        ordering = ["election", "depth", "code"]
        constraints = [
            models.UniqueConstraint(fields=["election", "code"], name="commission_code_unique")
        ]
        indexes = [models.Index(fields=["election", "parent"])]

    def __str__(self) -> str:
        return self.name


class PollingStation(models.Model):
    """A polling station and the precinct commission that runs it."""

    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="stations")
    code = models.CharField(_("code"), max_length=255)
    number = models.CharField(_("number"), max_length=50)
    commission = models.ForeignKey(Commission, on_delete=models.PROTECT, related_name="stations")
    registered_voters = models.PositiveIntegerField(_("registered voters"))
    address = models.TextField(_("address"), blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)

    class Meta:
        verbose_name = _("polling station")
        verbose_name_plural = _("polling stations")
        ordering = ["election", "code"]
        constraints = [
            models.UniqueConstraint(fields=["election", "code"], name="station_code_unique")
        ]
        indexes = [
            models.Index(fields=["election", "number"]),
            models.Index(fields=["commission", "number"]),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.code})"
