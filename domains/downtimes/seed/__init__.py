"""Seed data for downtimes: a realistic history over the demo federation
(`seed_demo_downtimes`, from demo.toml), and a synthetic bulk over whatever `seed_scale`
made, for benchmarks (`seed_scale_downtimes`). Neither function commits: the caller does."""

from domains.downtimes.seed.demo import seed_demo_downtimes
from domains.downtimes.seed.scale import seed_scale_downtimes

__all__ = ["seed_demo_downtimes", "seed_scale_downtimes"]
