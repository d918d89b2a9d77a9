"""`pollwatch` is the single entry point: its help lists pollwatch's own commands."""

import subprocess
import sys
from pathlib import Path

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
