"""The transparency log's pure core (DESIGN §5): RFC 9162 Merkle trees and proofs, C2SP tiles,
signed notes, checkpoints, cosignatures and tlog-proof receipts. Pure Python + `cryptography`.

One module per concern:

- `hashing`   — RFC 9162 §2.1.1 leaf and node hashes
- `verify`    — RFC 9162 §2.1.3.2 / §2.1.4.2 proof verification (strict)
- `proof`     — RFC 9162 §2.1.3.1 / §2.1.4.1 proof generation, `MemoryTree`
- `tiles`     — C2SP tlog-tiles: paths, the batch integrator, proofs from tiles, entry bundles
- `ed25519`   — the one accept/reject rule for Ed25519 keys and signatures
- `note`      — C2SP signed-note: format, key ids, signer/verifier keys, open and sign
- `checkpoint`— C2SP tlog-checkpoint note text
- `cosignature` — C2SP tlog-cosignature cosignature/v1 (Ed25519, timestamped, type 0x04)
- `receipt`   — C2SP tlog-proof `c2sp.org/tlog-proof@v1` receipts, end-to-end verification
"""

from pollwatch.core.tlog.errors import (
    CheckpointError,
    KeyFormatError,
    NoteError,
    ProofError,
    ReceiptError,
    TileError,
    TlogError,
)
from pollwatch.core.tlog.hashing import EMPTY_ROOT, HASH_SIZE, leaf_hash, node_hash
from pollwatch.core.tlog.proof import MemoryTree
from pollwatch.core.tlog.verify import (
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CheckpointError",
    "KeyFormatError",
    "MemoryTree",
    "NoteError",
    "ProofError",
    "ReceiptError",
    "TileError",
    "TlogError",
    "leaf_hash",
    "node_hash",
    "root_from_inclusion_proof",
    "verify_consistency",
    "verify_inclusion",
]
