"""`pollwatch create-election`: set up (or update) an election from election.toml or options."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pollwatch.commands import CommandHelp, reported_as_command_error
from pollwatch.registry.elections import (
    ElectionSpecError,
    create_or_update_election,
    load_election_file,
)
from pollwatch.registry.models import Election

_FIELD_OPTIONS = ("slug", "name", "kind", "date", "time_zone", "languages", "template")


class Command(BaseCommand):
    help = CommandHelp(
        gettext_lazy(
            "Create or update an election, from an election.toml or from options.\n"
            "Either --file election.toml, or all of --slug --name --kind --date --time-zone "
            "--languages --template."
        )
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", type=Path, help=_("an election.toml"))
        parser.add_argument("--slug", help=_("short unique name used in addresses, e.g. kz-2026"))
        parser.add_argument("--name", help=_("the election's full name"))
        parser.add_argument(
            "--kind", choices=Election.Kind.values, help=_("election or referendum")
        )
        parser.add_argument("--date", help=_("election day, YYYY-MM-DD"))
        parser.add_argument("--time-zone", help=_("IANA time zone, e.g. Asia/Almaty"))
        parser.add_argument("--languages", help=_("comma-separated language codes, e.g. kk,ru"))
        parser.add_argument("--template", help=_("protocol template key, e.g. kz-referendum"))

    def handle(self, *args: Any, **options: Any) -> None:
        given = [field for field in _FIELD_OPTIONS if options[field] is not None]
        with reported_as_command_error(ElectionSpecError):
            if options["file"] is not None:
                if given:
                    raise CommandError(
                        _("give either --file or the election's fields, not both (got %(fields)s)")
                        % {"fields": ", ".join(_option(field) for field in given)}
                    )
                election = load_election_file(options["file"])
            else:
                election = create_or_update_election(**self._fields(options))
        self.stdout.write(
            _("Election %(slug)s saved: %(name)s; template %(template)s; %(options)d options")
            % {
                "slug": election.slug,
                "name": election.name,
                "template": election.template.key,
                "options": election.options.count(),
            }
        )

    def _fields(self, options: dict[str, Any]) -> dict[str, Any]:
        missing = [_option(field) for field in _FIELD_OPTIONS if options[field] is None]
        if missing:
            raise CommandError(
                _("missing %(options)s (or give --file election.toml)")
                % {"options": ", ".join(missing)}
            )
        try:
            date = datetime.date.fromisoformat(options["date"])
        except ValueError:
            raise CommandError(
                _("--date %(value)r is not a date; expected YYYY-MM-DD")
                % {"value": options["date"]}
            ) from None
        return {
            "slug": options["slug"],
            "name": options["name"],
            "kind": options["kind"],
            "date": date,
            "time_zone": options["time_zone"],
            "languages": [code.strip() for code in options["languages"].split(",") if code.strip()],
            "template_key": options["template"],
        }


def _option(field: str) -> str:
    return "--" + field.replace("_", "-")
