"""Background work: the outbox relay, dramatiq actors, the periodic scheduler, and the
runtime that runs them (in `opsgraph worker`, or inside `opsgraph serve` when embedded)."""
