"""`pollwatch verify`: offline checks of what the transparency log publishes (DESIGN §5).

    pollwatch verify receipt RECEIPT --log-key VKEY [--entry FILE | --leaf-hash HEX] ...
    pollwatch verify log DIR --log-key VKEY ...
    pollwatch verify database --election SLUG [--log-key VKEY]

Exit status: 0 valid, 1 invalid, 2 unreadable input (`core.tlog.verify_export` decides which).
Receipts and logs are one subparser and one handler each in `_SUBJECTS`; the database is
checked by `pollwatch.ledger.database_check`, one line per row that does not match the log.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from pollwatch.commands import CommandHelp
from pollwatch.core.tlog import HASH_SIZE, TlogError, leaf_hash
from pollwatch.core.tlog.checkpoint import Checkpoint
from pollwatch.core.tlog.cosignature import CosignatureVerifier
from pollwatch.core.tlog.note import Ed25519Verifier, NoteSignature, b64encode
from pollwatch.core.tlog.verify_export import (
    UnreadableInput,
    VerificationFailed,
    check_receipt,
    verify_log_directory,
)
from pollwatch.ledger.database_check import DatabaseReport, check_database
from pollwatch.registry.models import Election

VALID, INVALID, UNREADABLE = 0, 1, 2


# Whole sentences for a file that cannot be read (%(path)s, %(reason)s) or a key file that is
# not ASCII (%(path)s), one per thing read.
_UNREADABLE_ENTRY = gettext_lazy("cannot read entry %(path)s: %(reason)s")
_UNREADABLE_RECEIPT = gettext_lazy("cannot read receipt %(path)s: %(reason)s")
_UNREADABLE_LOG_KEY = gettext_lazy("cannot read log key %(path)s: %(reason)s")
_UNREADABLE_WITNESS_KEY = gettext_lazy("cannot read witness key %(path)s: %(reason)s")
_LOG_KEY_NOT_ASCII = gettext_lazy("log key file %(path)s is not ASCII")
_WITNESS_KEY_NOT_ASCII = gettext_lazy("witness key file %(path)s is not ASCII")


def _read_file(path: str, unreadable: Promise) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise UnreadableInput(
            str(unreadable) % {"path": path, "reason": error.strerror or error}
        ) from None


def _key_text(value: str, unreadable: Promise, not_ascii: Promise) -> str:
    """A key given as a string or as @file (the file's one line)."""
    if not value.startswith("@"):
        return value
    try:
        return _read_file(value[1:], unreadable).decode("ascii").strip()
    except UnicodeDecodeError:
        raise UnreadableInput(str(not_ascii) % {"path": value[1:]}) from None


def _log_key(value: str) -> Ed25519Verifier:
    try:
        return Ed25519Verifier.from_key_string(
            _key_text(value, _UNREADABLE_LOG_KEY, _LOG_KEY_NOT_ASCII)
        )
    except TlogError as error:
        if isinstance(error, UnreadableInput):
            raise
        raise UnreadableInput(_("log key: %(error)s") % {"error": error}) from None


def _witness_keys(values: Sequence[str]) -> list[CosignatureVerifier]:
    keys = []
    for number, value in enumerate(values, start=1):
        try:
            text = _key_text(value, _UNREADABLE_WITNESS_KEY, _WITNESS_KEY_NOT_ASCII)
            keys.append(CosignatureVerifier.from_key_string(text))
        except TlogError as error:
            if isinstance(error, UnreadableInput):
                raise
            raise UnreadableInput(
                _("witness key %(number)s: %(error)s") % {"number": number, "error": error}
            ) from None
    return keys


def _leaf_hash(entry: str | None, leaf_hex: str | None) -> bytes:
    if entry is not None:
        return leaf_hash(_read_file(entry, _UNREADABLE_ENTRY))
    assert leaf_hex is not None  # argparse requires one of the two
    try:
        value = bytes.fromhex(leaf_hex)
    except ValueError:
        raise UnreadableInput(
            _("leaf hash %(value)r is not hexadecimal") % {"value": leaf_hex}
        ) from None
    if len(value) != HASH_SIZE:
        raise UnreadableInput(
            _("leaf hash is %(length)s bytes, not %(size)s")
            % {"length": len(value), "size": HASH_SIZE}
        )
    return value


def _checkpoint_fields(
    checkpoint: Checkpoint, cosigners: Sequence[NoteSignature]
) -> dict[str, Any]:
    return {
        "origin": checkpoint.origin,
        "size": checkpoint.size,
        "root_hash": b64encode(checkpoint.root_hash),
        "root_hash_hex": checkpoint.root_hash.hex(),
        "cosigners": [s.name for s in cosigners],
    }


def _signed_by(log: Ed25519Verifier, cosigners: Sequence[NoteSignature], quorum: int) -> str:
    if not cosigners:
        return _("signed by %(log)s") % {"log": log.name}
    return _("signed by %(log)s, cosigned by %(witnesses)s (quorum %(quorum)s)") % {
        "log": log.name,
        "witnesses": ", ".join(s.name for s in cosigners),
        "quorum": quorum,
    }


class Command(BaseCommand):
    help = CommandHelp(
        gettext_lazy(
            "Verify offline a receipt or an exported log against the log's public key "
            "(exit 0 valid, 1 invalid, 2 unreadable input)."
        )
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        subjects = parser.add_subparsers(
            dest="subject", required=True, metavar="{receipt,log,database}"
        )
        receipt = subjects.add_parser("receipt", help=_("a tlog-proof receipt for one entry"))
        receipt.add_argument("receipt_file", metavar="RECEIPT_FILE", help=_("the receipt file"))
        leaf = receipt.add_mutually_exclusive_group(required=True)
        leaf.add_argument("--entry", help=_("file holding the entry's exact bytes"))
        leaf.add_argument("--leaf-hash", help=_("the entry's leaf hash, 64 hex digits"))
        self._common(receipt)
        log = subjects.add_parser("log", help=_("an exported tiles tree"))
        log.add_argument("directory", metavar="DIR", help=_("the exported tiles tree's directory"))
        self._common(log)
        database = subjects.add_parser(
            "database", help=_("the live database against the election's log")
        )
        database.add_argument("--election", required=True, help=_("the election's slug"))
        database.add_argument(
            "--log-key",
            help=_("the log's verifier key as published, or @file (default: the server's own)"),
        )
        database.add_argument(
            "--json", action="store_true", help=_("print a machine-readable result")
        )

    @staticmethod
    def _common(parser: CommandParser) -> None:
        parser.add_argument(
            "--log-key", required=True, help=_("the log's verifier key, or @file holding it")
        )
        parser.add_argument(
            "--origin", help=_("the log's origin line (default: the log key's name)")
        )
        parser.add_argument(
            "--witness-key",
            action="append",
            default=[],
            help=_("a witness's cosignature verifier key or @file (repeatable)"),
        )
        parser.add_argument(
            "--quorum",
            type=int,
            default=None,
            help=_("witness cosignatures required (default: every --witness-key)"),
        )
        parser.add_argument(
            "--json", action="store_true", help=_("print a machine-readable result")
        )

    def handle(self, *args: Any, subject: str, **options: Any) -> None:
        as_json: bool = options["json"]
        if subject == "database":
            self._database(options, as_json)
            return
        handler = _SUBJECTS[subject]
        try:
            log = _log_key(options["log_key"])
            witnesses = _witness_keys(options["witness_key"])
            quorum = len(witnesses) if options["quorum"] is None else options["quorum"]
            message, fields = handler(self, log, witnesses, quorum, options)
        except UnreadableInput as error:
            line = _("unreadable input: %(reason)s") % {"reason": error}
            self._fail(subject, "unreadable", UNREADABLE, str(error), line, as_json)
        except VerificationFailed as error:
            line = _("invalid: %(reason)s") % {"reason": error}
            self._fail(subject, "invalid", INVALID, str(error), line, as_json)
        else:
            if as_json:
                result = {"status": "valid", "exit": VALID, "subject": subject, **fields}
                self.stdout.write(json.dumps(result))
            else:
                self.stdout.write(_("valid: %(message)s") % {"message": message})

    def _fail(
        self,
        subject: str,
        status: str,
        code: int,
        reason: str,
        line: str,
        as_json: bool,
        **fields: Any,
    ) -> None:
        if as_json:
            result = {
                "status": status,
                "exit": code,
                "subject": subject,
                "reason": reason,
                **fields,
            }
            self.stdout.write(json.dumps(result))
        raise CommandError(line, returncode=code)

    def _database(self, options: dict[str, Any], as_json: bool) -> None:
        try:
            election = Election.objects.filter(slug=options["election"]).first()
            if election is None:
                raise UnreadableInput(
                    _("no election %(slug)r in this database") % {"slug": options["election"]}
                )
            log = _log_key(options["log_key"]) if options["log_key"] else None
        except UnreadableInput as error:
            line = _("unreadable input: %(reason)s") % {"reason": error}
            self._fail("database", "unreadable", UNREADABLE, str(error), line, as_json)
            return
        report = check_database(election, log)
        fields = _database_fields(report)
        if report.problems:
            count = len(report.problems)
            reason = ngettext(
                "%(count)s row or entry of %(election)s does not match the log",
                "%(count)s rows or entries of %(election)s do not match the log",
                count,
            ) % {"count": count, "election": election.slug}
            if not as_json:
                for problem in report.problems:
                    self.stdout.write(problem)
            line = _("invalid: %(reason)s") % {"reason": reason}
            self._fail("database", "invalid", INVALID, reason, line, as_json, **fields)
            return
        if as_json:
            result = {"status": "valid", "exit": VALID, "subject": "database", **fields}
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(
            _(
                "valid: %(rows)s rows of %(election)s match their %(entries)s log entries "
                "(log %(origin)s at size %(size)s, %(pending)s pending); no row was changed, "
                "removed or added outside the log"
            )
            % {
                "rows": report.rows_checked,
                "election": election.slug,
                "entries": report.entries,
                "origin": report.origin or "-",
                "size": report.size,
                "pending": report.pending,
            }
        )

    def _receipt(
        self,
        log: Ed25519Verifier,
        witnesses: Sequence[CosignatureVerifier],
        quorum: int,
        options: dict[str, Any],
    ) -> tuple[str, dict[str, Any]]:
        entry_hash = _leaf_hash(options["entry"], options["leaf_hash"])
        data = _read_file(options["receipt_file"], _UNREADABLE_RECEIPT)
        verified = check_receipt(
            data, entry_hash, log, origin=options["origin"], witnesses=witnesses, quorum=quorum
        )
        checkpoint = verified.checkpoint
        message = _(
            "entry %(index)s (leaf hash %(leaf)s) is in the log %(origin)s at size %(size)s, "
            "root %(root)s; %(signed)s"
        ) % {
            "index": verified.index,
            "leaf": entry_hash.hex(),
            "origin": checkpoint.origin,
            "size": checkpoint.size,
            "root": b64encode(checkpoint.root_hash),
            "signed": _signed_by(log, verified.cosigners, quorum),
        }
        fields = {
            "index": verified.index,
            "leaf_hash": entry_hash.hex(),
            **_checkpoint_fields(checkpoint, verified.cosigners),
        }
        return message, fields

    def _log(
        self,
        log: Ed25519Verifier,
        witnesses: Sequence[CosignatureVerifier],
        quorum: int,
        options: dict[str, Any],
    ) -> tuple[str, dict[str, Any]]:
        verified = verify_log_directory(
            Path(options["directory"]),
            log,
            origin=options["origin"],
            witnesses=witnesses,
            quorum=quorum,
        )
        checkpoint = verified.checkpoint
        message = _(
            "log %(origin)s at size %(size)s, root %(root)s: %(bundles)s entry bundles and "
            "%(tiles)s tiles recomputed from the entries and equal; %(signed)s"
        ) % {
            "origin": checkpoint.origin,
            "size": checkpoint.size,
            "root": b64encode(checkpoint.root_hash),
            "bundles": verified.bundles,
            "tiles": verified.tiles,
            "signed": _signed_by(log, verified.cosigners, quorum),
        }
        if verified.beyond_checkpoint:
            beyond = len(verified.beyond_checkpoint)
            message += ngettext(
                " (%(count)s file beyond the checkpoint not checked)",
                " (%(count)s files beyond the checkpoint not checked)",
                beyond,
            ) % {"count": beyond}
        fields = {
            **_checkpoint_fields(checkpoint, verified.cosigners),
            "entry_bundles": verified.bundles,
            "tiles": verified.tiles,
            "stale_tiles_checked": verified.stale_tiles,
            "beyond_checkpoint": list(verified.beyond_checkpoint),
        }
        return message, fields


def _database_fields(report: DatabaseReport) -> dict[str, Any]:
    return {
        "origin": report.origin,
        "size": report.size,
        "entries": report.entries,
        "pending": report.pending,
        "rows_checked": report.rows_checked,
        "entries_without_source": report.without_source,
        "problems": report.problems,
    }


_Handler = Callable[
    [Command, Ed25519Verifier, Sequence[CosignatureVerifier], int, dict[str, Any]],
    tuple[str, dict[str, Any]],
]
_SUBJECTS: dict[str, _Handler] = {"receipt": Command._receipt, "log": Command._log}
