"""Analysis: election forensics and the parallel vote tabulation, run from the command line.

`pollwatch forensics` and `pollwatch pvt` read per-station result files through an import
mapping's [figures] table (core.forensics.source) and call core.forensics and core.pvt. No
models: the database path waits for official results in the database.
"""
