"""Errors of the transparency log core, one class per kind of artifact.

Each message names the check that failed, so a verifier's output can be read on its own:
"inclusion proof has 3 hashes, tree size 8 needs ...", "signature line 2: bad base64", ...
All are `ValueError`s: they mean "this input is not acceptable", never "the program is broken".
"""

from __future__ import annotations


class TlogError(ValueError):
    """Base class of every rejection by `pollwatch.core.tlog`."""


class ProofError(TlogError):
    """An inclusion or consistency proof does not verify (RFC 9162 §2.1.3.2, §2.1.4.2), or
    one cannot be produced for the sizes and index asked."""


class TileError(TlogError):
    """A tile, tile path or entry bundle is malformed (C2SP tlog-tiles)."""


class KeyFormatError(TlogError):
    """A signer or verifier key string or a public key is malformed or refused (C2SP
    signed-note, Go sumdb/note key encodings)."""


class NoteError(TlogError):
    """A signed note is malformed, or its signatures do not verify (C2SP signed-note)."""


class CheckpointError(TlogError):
    """A checkpoint's note text is malformed or not the one expected (C2SP tlog-checkpoint)."""


class ReceiptError(TlogError):
    """A `c2sp.org/tlog-proof@v1` receipt is malformed or does not verify (C2SP tlog-proof)."""
