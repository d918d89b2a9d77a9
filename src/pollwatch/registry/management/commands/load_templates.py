"""`pollwatch load-templates [FILE ...]`: load protocol templates into the database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pollwatch.commands import CommandHelp, reported_as_command_error
from pollwatch.core.protocol import TemplateError
from pollwatch.registry.protocol_templates import load_shipped_templates, load_templates


class Command(BaseCommand):
    # Command help stays in English, as Django's own commands do; what it prints is translated.
    help = CommandHelp(
        gettext_lazy(
            "Load protocol templates from TOML files (no files: the ones shipped with pollwatch).\n"
            "A template whose key is already in the database is replaced."
        )
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="*", type=Path, help=_("template files (.toml)"))

    def handle(self, *args: Any, files: list[Path], **options: Any) -> None:
        with reported_as_command_error(TemplateError):
            templates = load_templates(files) if files else load_shipped_templates()
        for template in templates:
            self.stdout.write(
                _("Loaded protocol template %(key)s: %(lines)d lines, %(relations)d relations")
                % {
                    "key": template.key,
                    "lines": len(template.lines),
                    "relations": len(template.relations),
                }
            )
