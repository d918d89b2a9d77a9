"""The log's signing key and each election log's origin.

One Ed25519 seed signs every election's log; it is generated on first use into
`DATA_DIR/log_signing_key` (mode 0600, created with O_EXCL, so two processes starting together
cannot write two keys) and never leaves the server. Each election's log gets the key *name*
`<site host>/<election slug>`, which is also the log's origin (C2SP tlog-checkpoint), so the
verifier key `<origin>+<key ID>+<base64 key>` (C2SP signed-note) names the log it verifies.

The site host is the setting `POLLWATCH_LOG_HOST` (Django setting or environment variable),
by default the first of ALLOWED_HOSTS. A log keeps the origin it started with (LogState), so
changing the host later does not break published checkpoints.
"""

from __future__ import annotations

import base64
import os
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from pollwatch.core.tlog.note import Ed25519Signer, Ed25519Verifier, is_valid_key_name
from pollwatch.registry.models import Election

KEY_FILE = "log_signing_key"
SEED_BYTES = 32


def log_host() -> str:
    """The host part of every log origin (see the module docstring)."""
    host = getattr(settings, "POLLWATCH_LOG_HOST", None) or os.environ.get("POLLWATCH_LOG_HOST")
    if not host:
        allowed = [h for h in settings.ALLOWED_HOSTS if h and h != "*" and not h.startswith(".")]
        if not allowed:
            raise ImproperlyConfigured(
                "set POLLWATCH_LOG_HOST: ALLOWED_HOSTS has no plain host name for log origins"
            )
        host = allowed[0]
    return str(host)


def new_origin(election: Election) -> str:
    """`<site host>/<election slug>`: the origin a new log for `election` gets."""
    origin = f"{log_host()}/{election.slug}"
    if not is_valid_key_name(origin):
        raise ImproperlyConfigured(f"log origin {origin!r} is not a valid key name")
    return origin


def _key_path() -> Path:
    return Path(settings.DATA_DIR) / KEY_FILE


@lru_cache(maxsize=4)
def _seed(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first: use theirs
        else:
            with os.fdopen(fd, "w") as f:
                f.write(base64.b64encode(os.urandom(SEED_BYTES)).decode("ascii") + "\n")
                f.flush()
                os.fsync(f.fileno())
    text = path.read_text().strip()
    try:
        seed = base64.b64decode(text, validate=True)
    except ValueError:
        raise ImproperlyConfigured(f"{path} does not hold a base64 Ed25519 seed") from None
    if len(seed) != SEED_BYTES:
        raise ImproperlyConfigured(f"{path} holds {len(seed)} bytes, not a 32-byte seed")
    return seed


def log_signer(origin: str) -> Ed25519Signer:
    """The signing key of the log named `origin`."""
    return Ed25519Signer(origin, _seed(_key_path()))


def log_verifier(origin: str) -> Ed25519Verifier:
    """The public verifier key of the log named `origin`."""
    return log_signer(origin).verifier()
