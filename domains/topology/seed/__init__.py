"""Seed data: a realistic demo federation (`seed_demo`, from demo.toml) and a synthetic
infrastructure of any size for benchmarks (`seed_scale`). Neither function commits: the
caller does."""

from domains.topology.seed.demo import seed_demo
from domains.topology.seed.scale import seed_scale

__all__ = ["seed_demo", "seed_scale"]
