"""Bounds that inputs share, kept apart from every heavy import."""

__all__ = ["MAX_REPLICATIONS", "MAX_SEED"]

# Seeds are stored as 64-bit integers (in sweep parts); numpy takes any larger one.
MAX_SEED = 2**63 - 1
# Replications of one simulate() are held in memory together; a sweep writes each to disk.
MAX_REPLICATIONS = 100_000
