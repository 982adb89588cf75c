"""Completion figures of the ledger (整改完成率, the four report buckets, lights per group):
the rollup engine (`rollups`) and the official wording of a figure (`wording`).

They live beside the ledger because they are the ledger's own answer to "how far along are
we"; the reports app reads documents in and writes documents out, and calls these."""
