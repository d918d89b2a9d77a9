"""Who observes: organisations, their observers, accreditation per election, assignments.

An observer's right to submit for a station is the conjunction of an accreditation (accredited,
not revoked) for the election and an assignment to the station whose window, plus the
election's grace period, contains the moment of submission; ``services`` decides it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from pollwatch.registry.models import Election, PollingStation


class OrganisationKind(models.TextChoices):
    PARTY = "party", _("Party")
    NGO = "ngo", _("Non-governmental organisation")
    MEDIA = "media", _("Media")
    INTERNATIONAL_MISSION = "international_mission", _("International mission")
    FOREIGN_OBSERVER_GROUP = "foreign_observer_group", _("Foreign observer group")


class Organisation(models.Model):
    Kind = OrganisationKind

    code = models.SlugField(_("code"), max_length=100, unique=True)
    name = models.CharField(_("name"), max_length=300)
    kind = models.CharField(_("kind"), max_length=30, choices=OrganisationKind.choices)
    # Sharing: what of this organisation's raw data (copies, photos) others may see.
    share_with_mission = models.BooleanField(_("share raw data with the mission's analysts"))
    share_with_organisations = models.BooleanField(
        _("share raw data with other organisations"), default=False
    )

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """The organisation a user account works for (observers and coordinators)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="memberships"
    )

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation}"


class Observer(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="observers"
    )
    # The organisation's own identifier for the person, the key of observer imports.
    code = models.CharField(_("code"), max_length=100)
    full_name = models.CharField(_("full name"), max_length=300)
    contact = models.CharField(_("contact"), max_length=300, blank=True)  # phone or e-mail
    languages = models.JSONField(_("languages"), default=list)  # language codes
    # The account the observer signs in with; imported observers may not have one yet.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="observer",
    )

    class Meta:
        verbose_name = _("observer")
        verbose_name_plural = _("observers")
        ordering = ["organisation", "full_name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "code"], name="observer_code_unique")
        ]

    def __str__(self) -> str:
        return self.full_name


class AccreditationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCREDITED = "accredited", _("Accredited")
    REVOKED = "revoked", _("Revoked")


class Accreditation(models.Model):
    Status = AccreditationStatus

    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="accreditations")
    observer = models.ForeignKey(Observer, on_delete=models.CASCADE, related_name="accreditations")
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=AccreditationStatus.choices,
        default=AccreditationStatus.PENDING,
    )
    number = models.CharField(_("accreditation number"), max_length=100, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    # Why an administrator revoked it: the coordinator and the audit log need to know.
    # db_default: the bulk imports insert accreditations by hand-written SQL
    revocation_reason = models.TextField(
        _("reason for revocation"), blank=True, default="", db_default=""
    )

    class Meta:
        verbose_name = _("accreditation")
        verbose_name_plural = _("accreditations")
        constraints = [
            models.UniqueConstraint(
                fields=["election", "observer"], name="accreditation_once_per_election"
            ),
            models.UniqueConstraint(
                fields=["election", "number"],
                condition=~models.Q(number=""),
                name="accreditation_number_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.observer} — {self.election}: {self.status}"


class Assignment(models.Model):
    """An observer at a station from `starts_at` to `ends_at`."""

    observer = models.ForeignKey(Observer, on_delete=models.CASCADE, related_name="assignments")
    station = models.ForeignKey(
        PollingStation, on_delete=models.CASCADE, related_name="assignments"
    )
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="assignment_window_positive",
            )
        ]
        indexes = [models.Index(fields=["observer", "station"])]

    def __str__(self) -> str:
        return f"{self.observer} @ {self.station}"


class DeviceKey(models.Model):
    """An observer's device's Ed25519 public key, registered to sign protocol copies.

    The private key never leaves the device (in the browser, a non-extractable WebCrypto key
    in IndexedDB). A revoked key signs nothing new; copies it signed before keep it.
    """

    observer = models.ForeignKey(Observer, on_delete=models.CASCADE, related_name="device_keys")
    # RFC 8032 encoding, checked by pollwatch.core.tlog.ed25519 when registered.
    public_key = models.BinaryField(_("Ed25519 public key"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    created_at = models.DateTimeField(_("created at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("device key")
        verbose_name_plural = _("device keys")
        ordering = ["observer", "created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.observer})"
