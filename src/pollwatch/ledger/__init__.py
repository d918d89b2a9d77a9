"""The ledger: the per-election transparency log of accepted submissions (DESIGN §5)."""
