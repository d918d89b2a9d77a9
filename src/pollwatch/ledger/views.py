"""The log over HTTP: the C2SP tlog-tiles endpoints, receipts and consistency proofs (machine
endpoints, outside the language prefixes), and the public log page."""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import get_object_or_404, render
from django.utils.http import parse_etags
from django.views.decorators.http import require_GET

from pollwatch.core.tlog import TlogError
from pollwatch.core.tlog.note import b64encode
from pollwatch.core.tlog.tiles import TILE_WIDTH, parse_tile_path
from pollwatch.ledger import serving
from pollwatch.registry.models import Election

TEXT = "text/plain; charset=utf-8"
IMMUTABLE = "public, max-age=31536000, immutable"
FRESH = "no-cache"


def _text(body: bytes, status: int = 200, cache: str = FRESH) -> HttpResponse:
    response = HttpResponse(body, content_type=TEXT, status=status)
    response["Cache-Control"] = cache
    response["Access-Control-Allow-Origin"] = "*"  # verifiers in other sites' pages
    return response


def _fresh(request: HttpRequest, etag: str, body: Callable[[], bytes]) -> HttpResponse:
    """What the latest checkpoint gives, revalidated by `etag` (which names that checkpoint):
    304 without building the body if the client has it already."""
    known = request.headers.get("If-None-Match")
    if known is not None and (
        known.strip() == "*" or etag in (tag.removeprefix("W/") for tag in parse_etags(known))
    ):
        response: HttpResponse = HttpResponseNotModified()
        response["Cache-Control"] = FRESH
        response["Access-Control-Allow-Origin"] = "*"
    else:
        response = _text(body())
    response["ETag"] = etag
    return response


def _served(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """NotServed -> 404 with its reason as plain text (NotYet adds Retry-After); missing
    files -> 503."""

    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except serving.NotServed as error:
            response = _text(f"{error}\n".encode(), status=404)
            if isinstance(error, serving.NotYet):
                response["Retry-After"] = "1"
            return response
        except OSError:
            # The files are derived from the database; the integrator rebuilds them.
            response = _text(b"the log's files are being rebuilt; try again shortly\n", 503)
            response["Retry-After"] = "5"
            return response

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return require_GET(wrapped)


@_served
def checkpoint(request: HttpRequest, election: str) -> HttpResponse:
    """The latest signed (and cosigned) checkpoint (C2SP tlog-tiles §Checkpoints)."""
    log = serving.published_log(election)
    return _fresh(request, f'"{log.version}"', lambda: log.signed)


@_served
def tile(request: HttpRequest, election: str, path: str) -> HttpResponse:
    """A hash tile or entry bundle (C2SP tlog-tiles), immutable once served."""
    try:
        ref = parse_tile_path("tile/" + path)
    except TlogError as error:
        raise serving.NotServed(str(error)) from None
    data = serving.tile_bytes(serving.published_log(election), ref.level, ref.index, ref.width)
    response = HttpResponse(data, content_type="application/octet-stream")
    response["Cache-Control"] = IMMUTABLE
    response["Access-Control-Allow-Origin"] = "*"
    return response


@_served
def receipt(request: HttpRequest, election: str, entry: int) -> HttpResponse:
    """Entry `entry`'s `c2sp.org/tlog-proof@v1` receipt against the latest checkpoint."""
    located = serving.locate_entry(election, entry)
    return _fresh(
        request, f'"{located.log.version}-{located.index}"', lambda: serving.receipt(located)
    )


def _size(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name)
    if value is None or value == "":
        return None
    if not value.isdigit():
        raise ValueError(f"{name}={value!r} is not a tree size")
    return int(value)


@_served
def consistency(request: HttpRequest, election: str) -> HttpResponse:
    """PROOF(from, to) (RFC 9162 §2.1.4.1), one base64 hash per line; `to` defaults to the
    latest checkpoint's size."""
    log = serving.published_log(election)
    try:
        size1 = _size(request, "from")
        if size1 is None:
            raise ValueError("the query needs from=<tree size>")
        proof = serving.consistency(log, size1, _size(request, "to"))
    except (ValueError, TlogError) as error:
        return _text(f"{error}\n".encode(), status=400)
    return _text("".join(b64encode(h) + "\n" for h in proof).encode())


def log_page(request: HttpRequest, slug: str) -> HttpResponse:
    """The public page of an election's log: checkpoint, witnesses, key, how to verify."""
    election = get_object_or_404(Election, slug=slug)
    try:
        summary: serving.LogSummary | None = serving.summary(serving.published_log(slug))
    except serving.NotServed:
        summary = None
    witnesses = []
    if summary is not None:
        for witness in summary.witnesses:
            at = witness.cosigned_at
            witnesses.append(
                {
                    "view": witness,
                    "at": None if at is None else datetime.datetime.fromtimestamp(at, datetime.UTC),
                }
            )
    context = {
        "election": election,
        "summary": summary,
        "witnesses": witnesses,
        "root_hex": summary.root_hash.hex() if summary else "",
        "root_b64": b64encode(summary.root_hash) if summary else "",
        "tile_width": TILE_WIDTH,
    }
    return render(request, "ledger/log.html", context)
