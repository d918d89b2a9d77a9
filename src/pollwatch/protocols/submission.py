"""Submitting an observer's copy of a count protocol: validate, store, recheck the station.

Rules, and why:

- **Every line, a whole number.** A paper protocol has every line filled in (a line with
  nothing to count says 0), so every line of the election's template must be present; a
  missing, blank, negative, fractional or non-numeric figure, or a key the template does not
  have, is refused naming the line. A figure above ``figure_limit`` — ten times the station's
  registered voters, and never less than ``FIGURE_FLOOR`` — is refused as absurd: it is an
  extra digit or an attack, not evidence. (Lists can grow on the day and the commission
  receives spare ballots, but not tenfold; the floor covers stations registered with few or no
  voters, abroad or in hospitals, whose lists fill on the day.)
- **Wrong arithmetic is accepted.** What the paper says is evidence; the control relations are
  reported back (``Submission.feedback``) and become findings.
- **Retries are safe.** The client generates the copy's id. The same id with the same canonical
  body (canonical.py) from the same user returns the stored copy (``created=False``), even after
  the submission window has closed — it was accepted in time; the same id with anything else
  is refused as a conflict and changes nothing.
- **A correction is the observer's own.** ``supersedes`` names a copy at the same station
  submitted by the same observer that nobody has corrected yet; both stay. Another
  organisation's copy is that organisation's evidence, and another observer of one's own
  organisation has their own copy to correct.
- **Station-level serialisation.** The transaction first locks the station's row (the findings
  recording's ``lock_scope``: the election in share mode, then the station), and only then
  reads anything. Concurrent submissions at one station therefore queue, each recomputing the
  station's findings from every copy stored before it — so the last one leaves them exactly as
  a serial run would — while other stations proceed in parallel. Taking the station lock
  first, always in the same order, is what keeps them from deadlocking: two transactions that
  each hold row locks the other's findings upsert needs would otherwise be the classic cycle.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone
from django.utils.translation import gettext as _

from pollwatch import rows
from pollwatch.accreditation.eligibility import (
    Standing,
    eligible_observer,
    judge,
    submission_refusal,
)
from pollwatch.accreditation.models import DeviceKey, Observer
from pollwatch.core.protocol import ProtocolTemplateSpec
from pollwatch.core.relation_feedback import RelationFeedback, relation_feedback
from pollwatch.findings.recheck import recheck_stations, template_spec
from pollwatch.findings.recording import RecordingCounts, Scope, lock_scope
from pollwatch.ledger.appending import append_many_to_log
from pollwatch.protocols import canonical, signatures
from pollwatch.protocols.models import Photo, ProtocolCopy
from pollwatch.protocols.refusals import Problem, RefusalKind, SubmissionRefused
from pollwatch.registry.models import Election, PollingStation

__all__ = [
    "FIGURE_FACTOR",
    "FIGURE_FLOOR",
    "CopyInput",
    "PreparedCopy",
    "Problem",
    "RefusalKind",
    "Submission",
    "SubmissionRefused",
    "check_figures",
    "figure_limit",
    "prepare_copy",
    "store_copies",
    "submit_copy",
    "template_spec",
]

FIGURE_FLOOR = 10_000
FIGURE_FACTOR = 10
_SHA256 = re.compile(r"[0-9a-f]{64}\Z")


def figure_limit(registered_voters: int) -> int:
    """The largest figure a copy may carry at a station with this many registered voters."""
    return max(FIGURE_FACTOR * registered_voters, FIGURE_FLOOR)


@dataclass(frozen=True)
class Submission:
    copy: ProtocolCopy
    created: bool  # False: a retry of a copy already stored
    feedback: tuple[RelationFeedback, ...]  # the control relations on the copy's figures
    # What recomputing the findings of the stations of the copies stored with it (its own
    # station's, when stored alone) changed; None for a retry (nothing changed).
    findings: RecordingCounts | None = None


def check_figures(spec: ProtocolTemplateSpec, figures: object, limit: int) -> dict[str, int]:
    """The figures in template order, or SubmissionRefused listing every line that is wrong."""
    if not isinstance(figures, Mapping):
        raise SubmissionRefused(
            _("The figures must be an object of protocol line keys and whole numbers."),
            field="figures",
        )
    problems: list[Problem] = []
    known = set(spec.line_keys)
    for key in figures:
        if key not in known:
            problems.append(
                Problem(
                    f"figures.{key}",
                    _("Unknown protocol line %(key)s; this election's lines are: %(keys)s.")
                    % {"key": repr(key), "keys": ", ".join(spec.line_keys)},
                )
            )
    clean: dict[str, int] = {}
    for line in spec.lines:
        where = f"figures.{line.key}"
        name = _("line %(number)s (%(key)s)") % {"number": line.number, "key": line.key}
        value = figures.get(line.key)
        if value is None or value == "":
            problems.append(
                Problem(
                    where,
                    _("%(line)s is missing; write 0 if there is nothing to count.")
                    % {"line": name},
                )
            )
        elif isinstance(value, bool) or not isinstance(value, int):
            problems.append(
                Problem(
                    where,
                    _("%(line)s is %(value)s; expected a whole number.")
                    % {"line": name, "value": repr(value)},
                )
            )
        elif value < 0:
            problems.append(
                Problem(
                    where,
                    _("%(line)s is %(value)d; a figure cannot be negative.")
                    % {"line": name, "value": value},
                )
            )
        elif value > limit:
            problems.append(
                Problem(
                    where,
                    _(
                        "%(line)s is %(value)d, more than %(limit)d (ten times the station's "
                        "registered voters); check the figure."
                    )
                    % {"line": name, "value": value, "limit": limit},
                )
            )
        else:
            clean[line.key] = value
    if problems:
        raise SubmissionRefused.listing(problems)
    return clean


def _check_photo_references(photo_sha256s: Sequence[str]) -> list[str]:
    """The references as given, each checked to be a SHA-256; duplicates are harmless."""
    problems = [
        Problem(
            f"photos[{index}]",
            _(
                "%(value)s is not a photo reference; expected the SHA-256 of an uploaded photo "
                "(64 lowercase hexadecimal digits)."
            )
            % {"value": repr(sha)},
        )
        for index, sha in enumerate(photo_sha256s)
        if not isinstance(sha, str) or not _SHA256.match(sha)
    ]
    if problems:
        raise SubmissionRefused.listing(problems)
    return list(photo_sha256s)


@dataclass(frozen=True)
class PreparedCopy:
    """A copy that passed every check needing no lock — input, eligibility, signature,
    photos — ready to be stored (``store_copies``)."""

    user_id: int
    copy_id: UUID
    election: Election
    station: PollingStation
    observer: Observer
    figures: dict[str, int]
    all_members_signed: bool
    certified: bool
    photos: tuple[Photo, ...]
    photo_sha256s: tuple[str, ...]  # as given, in order, checked
    supersedes: UUID | None
    body: dict[str, object]
    body_sha256: str
    signed: tuple[DeviceKey, bytes] | None  # the verified device key and signature
    at: datetime.datetime
    feedback: tuple[RelationFeedback, ...]


@dataclass(frozen=True)
class CopyInput:
    """What an observer hands in: the copy as typed, with its evidence and signature.

    ``device_key`` (a registered key's id or base64 public key) and ``signature`` (base64) are
    the device's detached signature, checked by ``signatures.check_copy_signature``."""

    copy_id: UUID
    figures: Mapping[str, object]
    all_members_signed: bool
    certified: bool
    photo_sha256s: Sequence[str] = ()
    supersedes: UUID | None = None
    device_key: str | None = None
    signature: str | None = None


def submit_copy(
    user: AbstractBaseUser | AnonymousUser,
    election: Election,
    station: PollingStation,
    submitted: CopyInput,
    *,
    at: datetime.datetime | None = None,
    standing: Standing | None = None,
    group_commit: bool = False,
) -> Submission:
    """Store one observer's copy and recheck its station's findings, in one transaction.

    ``standing``: the user's standing at the station at ``at``, when the caller read it with
    the station (``eligibility.station_and_standing``); else it is read here.
    ``group_commit``: share the transaction with the submissions other threads of this
    process are making at the same moment (``group_commit.py``) — the web API's way.
    Raises SubmissionRefused (nothing written) on bad input, when the user may not submit for
    the station now, when the signature is missing where required or does not verify, or when
    the copy's id names a different submission.
    """
    prepared = prepare_copy(user, election, station, submitted, at=at, standing=standing)
    if isinstance(prepared, Submission):
        return prepared
    if group_commit:
        from pollwatch.protocols.group_commit import store_together

        outcome = store_together(prepared)
    else:
        (outcome,) = store_copies([prepared])
    if isinstance(outcome, SubmissionRefused):
        raise outcome
    return outcome


def prepare_copy(
    user: AbstractBaseUser | AnonymousUser,
    election: Election,
    station: PollingStation,
    submitted: CopyInput,
    *,
    at: datetime.datetime | None = None,
    standing: Standing | None = None,
) -> PreparedCopy | Submission:
    """Check a submission as far as can be done without locking its station: the copy to
    store, or — when its id is already stored — the stored copy, for a retry of the same
    submission by the same user (even one no longer allowed to submit: it was accepted in
    time). Raises SubmissionRefused as ``submit_copy`` does."""
    at = at or timezone.now()
    if not user.is_authenticated:
        # Said before anything else: an anonymous retry must not learn whether an id is taken.
        refusal = submission_refusal(user, station, at) or _("Sign in to submit a copy.")
        raise SubmissionRefused(refusal, kind=RefusalKind.FORBIDDEN)
    if station.election_id != election.pk:
        raise SubmissionRefused(
            _("Polling station %(number)s (%(code)s) is not in %(election)s.")
            % {"number": station.number, "code": station.code, "election": election.name},
            field="station",
        )
    spec = template_spec(election.template)
    clean = check_figures(spec, submitted.figures, figure_limit(station.registered_voters))
    shas = _check_photo_references(submitted.photo_sha256s)
    body = canonical.copy_body(
        election_slug=election.slug,
        station_code=station.code,
        figures=clean,
        all_members_signed=submitted.all_members_signed,
        certified=submitted.certified,
        photo_sha256s=shas,
        supersedes=submitted.supersedes,
    )
    body_sha256 = canonical.body_sha256(body)
    feedback = relation_feedback(spec, clean)
    try:
        if standing is None:
            observer = eligible_observer(user, station, at)
        else:
            observer = judge(standing, station, at)
        if isinstance(observer, str):  # why this user may not submit here now
            raise SubmissionRefused(observer, field="station", kind=RefusalKind.FORBIDDEN)
        verified = signatures.check_copy_signature(
            observer=observer,
            election=election,
            copy_id=submitted.copy_id,
            body=body,
            device_key=submitted.device_key,
            signature=submitted.signature,
        )
        photos = _uploaded_photos(shas)
    except SubmissionRefused:
        stored = ProtocolCopy.objects.filter(pk=submitted.copy_id).first()
        if stored is None:
            raise
        return Submission(_retried(stored, user, body_sha256), False, feedback)
    return PreparedCopy(
        user_id=user.pk,
        copy_id=submitted.copy_id,
        election=election,
        station=station,
        observer=observer,
        figures=clean,
        all_members_signed=submitted.all_members_signed,
        certified=submitted.certified,
        photos=photos,
        photo_sha256s=tuple(shas),
        supersedes=submitted.supersedes,
        body=body,
        body_sha256=body_sha256,
        signed=verified,
        at=at,
        feedback=feedback,
    )


def _uploaded_photos(shas: list[str]) -> tuple[Photo, ...]:
    """The uploaded photos named, or SubmissionRefused naming those never uploaded."""
    photos = tuple(Photo.objects.filter(sha256__in=set(shas))) if shas else ()
    if len(photos) != len(set(shas)):
        found = {photo.sha256 for photo in photos}
        raise SubmissionRefused.listing(
            [
                Problem(
                    f"photos[{index}]",
                    _("No uploaded photo has the SHA-256 %(sha)s; upload it first.") % {"sha": sha},
                )
                for index, sha in enumerate(shas)
                if sha not in found and sha not in shas[:index]
            ]
        )
    return photos


def store_copies(prepared: Sequence[PreparedCopy]) -> list[Submission | SubmissionRefused]:
    """Store copies of one election in one transaction, each station's findings rechecked
    once, every copy appended to the log; one outcome per copy, in order.

    A copy whose id is already stored is a retry (the stored copy) or a conflict; a
    correction of a copy that is not there, not the observer's, or already corrected is
    refused; neither holds up the others (an id stored at the same moment by a transaction
    these locks do not serialise is waited for, then judged the same way). Should the
    database refuse the batch as a whole all the same, each copy is stored on its own, so
    that only the offending one is refused.
    """
    if not prepared:
        return []
    elections = {item.election.pk for item in prepared}
    if len(elections) != 1:
        raise ValueError(f"store_copies stores copies of one election, not of {sorted(elections)}")
    try:
        return _store_together(prepared)
    except IntegrityError:
        if len(prepared) == 1:
            item = prepared[0]
            if ProtocolCopy.objects.filter(pk=item.copy_id).exists():
                return [_conflict(item.copy_id)]
            raise
        return [outcome for item in prepared for outcome in store_copies([item])]


def _store_together(prepared: Sequence[PreparedCopy]) -> list[Submission | SubmissionRefused]:
    election = prepared[0].election
    outcomes: list[Submission | SubmissionRefused | None] = [None] * len(prepared)
    with transaction.atomic():
        # The stations' row locks first, before reading anything (see the module's docstring).
        lock_scope(election, Scope.stations(item.station.pk for item in prepared))
        stored, corrected = _known(prepared)
        new: list[tuple[int, PreparedCopy]] = []
        taken: set[UUID] = set()  # corrected by a copy of this batch
        for index, item in enumerate(prepared):
            earlier = stored.get(item.copy_id)
            if earlier is not None:  # stored before, or by this batch
                outcomes[index] = _retry_outcome(earlier, item)
                continue
            refusal = _correction_refusal(item, corrected, taken)
            if refusal is not None:
                outcomes[index] = refusal
                continue
            copy = _copy_row(item)
            stored[item.copy_id] = copy
            # A later copy of the group may correct this one, as if it came just after.
            corrected[item.copy_id] = _Corrected(item.station.pk, item.observer.pk, False)
            if item.supersedes is not None:
                taken.add(item.supersedes)
            new.append((index, item))
        inserted = _insert([stored[item.copy_id] for _, item in new]) if new else set()
        if len(inserted) < len(new):
            # Ids already stored (the copies were not read beforehand, see _known): each
            # copy given with one is a retry or a conflict, judged against the stored row.
            before = _stored({item.copy_id for _, item in new} - inserted)
            for index, item in enumerate(prepared):
                if item.copy_id in before:
                    outcomes[index] = _retry_outcome(before[item.copy_id], item)
            new = [(index, item) for index, item in new if item.copy_id in inserted]
        copies = [stored[item.copy_id] for _, item in new]
        if copies:
            _link_photos(new, copies)
            findings = recheck_stations(election, {c.station_id for c in copies}, locked=True)
            append_many_to_log(
                election,
                canonical.RECORD_KIND,
                [
                    (canonical.copy_record(copy, item.photo_sha256s), copy)
                    for (_, item), copy in zip(new, copies, strict=True)
                ],
            )
            for (index, item), copy in zip(new, copies, strict=True):
                outcomes[index] = Submission(copy, True, item.feedback, findings)
    return [outcome for outcome in outcomes if outcome is not None]


def _retry_outcome(stored: ProtocolCopy, item: PreparedCopy) -> Submission | SubmissionRefused:
    if stored.submitted_by_id != item.user_id or stored.body_sha256 != item.body_sha256:
        return _conflict(item.copy_id)
    return Submission(stored, False, item.feedback)


def _retried(
    stored: ProtocolCopy, user: AbstractBaseUser | AnonymousUser, body_sha256: str
) -> ProtocolCopy:
    if stored.submitted_by_id != user.pk or stored.body_sha256 != body_sha256:
        raise _conflict(stored.pk)
    return stored


def _conflict(copy_id: UUID) -> SubmissionRefused:
    return SubmissionRefused(
        _(
            "A different protocol copy was already submitted with the id %(id)s; a retry must "
            "repeat the same submission exactly, and a new copy needs a new id."
        )
        % {"id": copy_id},
        field="id",
        kind=RefusalKind.CONFLICT,
    )


def _copy_row(item: PreparedCopy) -> ProtocolCopy:
    return ProtocolCopy(
        id=item.copy_id,
        election=item.election,
        station=item.station,
        observer=item.observer,
        organisation=item.observer.organisation,  # loaded: the answer names its code
        figures=item.figures,
        all_members_signed=item.all_members_signed,
        certified=item.certified,
        supersedes_id=item.supersedes,
        body_sha256=item.body_sha256,
        submitted_by_id=item.user_id,
        received_at=item.at,
        # The key as verified: the log record names its public key, without reading it again.
        device_key=item.signed[0] if item.signed else None,
        signature=item.signed[1] if item.signed else None,
    )


@rows.per_vendor
def _insert_sql(connection: BaseDatabaseWrapper) -> str:
    quote = connection.ops.quote_name
    fields = ProtocolCopy._meta.concrete_fields
    into = (
        f"INSERT INTO {quote(ProtocolCopy._meta.db_table)} "
        f"({', '.join(quote(field.column) for field in fields)}) "
    )
    # An id already stored is skipped, not refused: the caller judges it (retry or conflict).
    pk = quote(ProtocolCopy._meta.pk.column)
    skip = f"ON CONFLICT ({pk}) DO NOTHING RETURNING {pk}"
    if connection.vendor == "postgresql":
        arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
        return f"{into}SELECT * FROM unnest({arrays}) {skip}"
    return f"{into}VALUES ({', '.join(['%s'] * len(fields))}) {skip}"


def _insert(copies: list[ProtocolCopy]) -> set[UUID]:
    """Insert the copies as ``bulk_create`` would, but those whose id is already stored; the
    ids inserted. The statement's text is the same for any number of copies: on PostgreSQL
    one array per column, unnested (parsed once for the group; a multi-row INSERT's text, too
    long for psycopg's 4 KB cache of converted queries and different for every count, was
    converted anew and parsed every time); on SQLite, in-process, a row at a time."""
    fields = ProtocolCopy._meta.concrete_fields
    values = [
        [field.get_db_prep_save(field.pre_save(copy, True), connection) for field in fields]
        for copy in copies
    ]
    pk = ProtocolCopy._meta.pk
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                _insert_sql(connection), [list(column) for column in zip(*values, strict=True)]
            )
            returned = cursor.fetchall()
        else:
            returned = []
            for row in values:
                cursor.execute(_insert_sql(connection), row)
                returned += cursor.fetchall()
    inserted = {rows.value(pk, raw, connection) for (raw,) in returned}
    for copy in copies:
        if copy.pk in inserted:
            copy._state.adding = False
            copy._state.db = connection.alias
    return inserted


def _link_photos(new: list[tuple[int, PreparedCopy]], copies: list[ProtocolCopy]) -> None:
    links = ProtocolCopy.photos.through
    linked = [
        links(protocolcopy_id=copy.pk, photo_id=photo.pk)
        for (_, item), copy in zip(new, copies, strict=True)
        for photo in item.photos
    ]
    if linked:
        links.objects.bulk_create(linked)


@dataclass(frozen=True)
class _Corrected:
    station_id: int
    observer_id: int
    corrected: bool  # already superseded by a stored copy


@rows.per_vendor
def _known_sql(connection: BaseDatabaseWrapper) -> str:
    table = connection.ops.quote_name(ProtocolCopy._meta.db_table)
    supersedes = connection.ops.quote_name(ProtocolCopy._meta.get_field("supersedes").column)
    return (
        f"SELECT {rows.columns(ProtocolCopy, 't', connection)}, "
        f"EXISTS (SELECT 1 FROM {table} AS s WHERE s.{supersedes} = t.id) "
        f"FROM {table} AS t WHERE "
    )


def _known(
    prepared: Sequence[PreparedCopy],
) -> tuple[dict[UUID, ProtocolCopy], dict[UUID, _Corrected]]:
    """Read under the stations' locks, in one statement, when the batch corrects a copy: the
    copies already stored with the batch's ids, and the stored copies its corrections name
    (whether corrected already). Without corrections nothing is read: the insert skips the
    ids already stored (``_insert``), which are then read (``_stored``)."""
    named = {item.supersedes for item in prepared if item.supersedes is not None}
    if not named:
        return {}, {}
    ids = {item.copy_id for item in prepared}
    found = _read(ids | named)
    stored: dict[UUID, ProtocolCopy] = {}
    corrected: dict[UUID, _Corrected] = {}
    for copy, superseded in found:
        if copy.pk in ids:
            stored[copy.pk] = copy
        if copy.pk in named:
            corrected[copy.pk] = _Corrected(copy.station_id, copy.observer_id, superseded)
    return stored, corrected


def _stored(ids: set[UUID]) -> dict[UUID, ProtocolCopy]:
    return {copy.pk: copy for copy, _ in _read(ids)}


def _read(ids: set[UUID]) -> list[tuple[ProtocolCopy, bool]]:
    """The stored copies with these ids, each with whether a stored copy corrects it."""
    pk = ProtocolCopy._meta.pk
    assert pk is not None
    wanted = [pk.get_db_prep_value(value, connection) for value in ids]
    where, params = rows.any_of("t.id", wanted, connection)
    with connection.cursor() as cursor:
        cursor.execute(_known_sql(connection) + where, params)
        found = cursor.fetchall()
    width = rows.width(ProtocolCopy)
    return [
        (rows.instance(ProtocolCopy, row[:width], connection), bool(row[width])) for row in found
    ]


def _correction_refusal(
    item: PreparedCopy, corrected: dict[UUID, _Corrected], taken: set[UUID]
) -> SubmissionRefused | None:
    """Why ``item`` may not correct the copy it names, or None (also None: no correction)."""
    if item.supersedes is None:
        return None
    earlier = corrected.get(item.supersedes)
    if earlier is None or earlier.station_id != item.station.pk:
        message = _("There is no protocol copy %(id)s at polling station %(number)s to correct.")
    elif earlier.observer_id != item.observer.pk:
        message = _(
            "Protocol copy %(id)s was submitted by another observer; you can only "
            "correct your own copies."
        )
    elif earlier.corrected or item.supersedes in taken:
        message = _(
            "Protocol copy %(id)s has already been corrected; correct the latest copy instead."
        )
    else:
        return None
    return SubmissionRefused(
        message % {"id": item.supersedes, "number": item.station.number}, field="supersedes"
    )
