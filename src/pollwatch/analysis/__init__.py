"""Analysis: election forensics and the parallel vote tabulation.

`pollwatch forensics` and `pollwatch pvt` read per-station result files through an import
mapping's [figures] table (core.forensics.source), or an election in the database
(`election_figures`), and call core.forensics and core.pvt. The pages (`views`) show an
election's forensics report, kept per data state (`forensics_reports`), and its PVT plan
(`pvt_plan`, `pvt_progress`).
"""
