"""`pollwatch` is the single entry point: its help lists pollwatch's own commands."""

import argparse
import subprocess
import sys
from pathlib import Path

from django.core.management import get_commands, load_command_class
from django.utils import translation

POLLWATCH = Path(sys.executable).with_name("pollwatch")


def test_help_lists_pollwatchs_commands_with_hyphens() -> None:
    result = subprocess.run([str(POLLWATCH), "--help"], capture_output=True, text=True, check=True)
    listed = {line.split()[0] for line in result.stdout.splitlines() if line.startswith("  ")}
    assert {"demo", "synth", "import-structure", "load-templates", "create-election"} <= listed
    assert "migrate" not in listed  # Django's own commands stay behind `pollwatch help --commands`


def test_hyphenated_and_django_commands_run() -> None:
    synth = subprocess.run(
        [str(POLLWATCH), "synth", "--help"], capture_output=True, text=True, check=True
    )
    assert "--stations" in synth.stdout
    django = subprocess.run(
        [str(POLLWATCH), "help", "--commands"], capture_output=True, text=True, check=True
    )
    assert "migrate" in django.stdout.split()
    unknown = subprocess.run([str(POLLWATCH), "no-such-command"], capture_output=True, text=True)
    assert unknown.returncode == 1
    assert "Unknown command" in unknown.stderr


def test_every_commands_help_renders_in_every_language() -> None:
    """A stray % in a help text breaks argparse only when the help is shown: show them all.

    Each command's description is shown in the active language, not in the one active when
    its module was first imported (every module is imported under English first here)."""
    ours = {name: app for name, app in get_commands().items() if app.startswith("pollwatch.")}
    assert {"pvt", "verify", "witness", "import_official"} <= set(ours)
    english: dict[str, str] = {}
    for language in ("en", "ru", "kk"):
        with translation.override(language):
            for name, app in sorted(ours.items()):
                parser = load_command_class(app, name).create_parser("pollwatch", name)
                parsers = [parser]
                for action in parser._actions:
                    if isinstance(action, argparse._SubParsersAction):
                        parsers += list(action.choices.values())
                for each in parsers:
                    assert each.format_help(), (language, name, each.prog)
                assert parser.description, name
                if language == "en":
                    english[name] = parser.description
                else:
                    assert parser.description != english[name], (language, name)
