"""The transparency log's pure core at a million entries: leaf hashing, tile integration in
batches, entry bundles, then proofs served from the tiles.

    .venv/bin/python bench/tlog_integrate.py          # 1,000,000 entries, batches of 1,000
    .venv/bin/python bench/tlog_integrate.py --entries 100000 --batch 5000

Tiles live in a dict (the latest version of each tile, read by prefix as a server's store
would); no database, no disk. The issue's target is 1,000,000 entries integrated in <= 20 s
for the whole server path; this measures the core's share of it. Prints the figures and writes
bench/results/tlog_integrate.json.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import cryptography

from harness import description, heading, machine, record, results_file
from pollwatch.core.tlog import leaf_hash, verify_inclusion
from pollwatch.core.tlog.tiles import (
    extend_entry_bundles,
    inclusion_proof_from_tiles,
    integrate,
)

BENCH = "tlog_integrate"
TARGET_SECONDS = 20.0
ENTRY_BYTES = 400  # about the size of a canonical protocol-copy record
PROOFS = 1_000


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--out", type=Path, default=results_file(BENCH))
    args = parser.parse_args()

    rng = random.Random(1)
    template = bytes(rng.getrandbits(8) for _ in range(ENTRY_BYTES - 8))

    def entry(i: int) -> bytes:
        return i.to_bytes(8, "big") + template

    tiles: dict[tuple[int, int], bytes] = {}
    bundles: dict[int, bytes] = {}

    def read_tile(level: int, index: int, width: int) -> bytes:
        return tiles[(level, index)][: width * 32]

    def read_bundle(index: int, width: int) -> bytes:
        return bundles[index]

    hashing = integrating = bundling = 0.0
    size, root, tiles_written, bytes_written = 0, b"", 0, 0
    for start in range(0, args.entries, args.batch):
        batch = [entry(i) for i in range(start, min(start + args.batch, args.entries))]
        t0 = time.perf_counter()
        hashes = [leaf_hash(e) for e in batch]
        t1 = time.perf_counter()
        result = integrate(size, read_tile, hashes)
        for tile in result.tiles:
            tiles[(tile.level, tile.index)] = tile.hashes
        t2 = time.perf_counter()
        for bundle in extend_entry_bundles(size, read_bundle, batch):
            data = bundle.data
            bundles[bundle.index] = data
            bytes_written += len(data)
        t3 = time.perf_counter()
        hashing, integrating, bundling = (
            hashing + t1 - t0,
            integrating + t2 - t1,
            bundling + t3 - t2,
        )
        size, root = result.tree_size, result.root
        tiles_written += len(result.tiles)
        bytes_written += sum(len(t.hashes) for t in result.tiles)

    t0 = time.perf_counter()
    for index in rng.sample(range(size), min(PROOFS, size)):
        proof = inclusion_proof_from_tiles(read_tile, index, size)
        verify_inclusion(leaf_hash(entry(index)), index, size, proof, root)
    proving = time.perf_counter() - t0

    total = hashing + integrating + bundling
    figures = {
        **heading(BENCH),
        "entries": size,
        "entry_bytes": ENTRY_BYTES,
        "batch": args.batch,
        "root": root.hex(),
        "leaf_hashing_seconds": round(hashing, 2),
        "integration_seconds": round(integrating, 2),
        "entry_bundle_seconds": round(bundling, 2),
        "total_seconds": round(total, 2),
        "target_seconds_whole_server_path": TARGET_SECONDS,
        "core_within_target": total <= TARGET_SECONDS,
        "entries_per_second": round(size / total),
        "tile_writes": tiles_written,
        "bytes_written": bytes_written,
        "inclusion_proofs_from_tiles": min(PROOFS, size),
        "proof_and_verify_ms_each": round(proving / max(1, min(PROOFS, size)) * 1000, 3),
        "machine": machine(cryptography=cryptography.__version__),
    }
    print(f"tlog integrate: {size:,} entries of {ENTRY_BYTES} B in batches of {args.batch:,}")
    print(f"  leaf hashing   {hashing:7.2f} s")
    print(f"  integration    {integrating:7.2f} s  ({tiles_written:,} tile writes)")
    print(f"  entry bundles  {bundling:7.2f} s")
    print(f"  total          {total:7.2f} s  (whole server path target <= {TARGET_SECONDS:.0f} s)")
    print(f"  proof from tiles + verify: {figures['proof_and_verify_ms_each']} ms each")
    record(args.out, figures)


if __name__ == "__main__":
    main()
