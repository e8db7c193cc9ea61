"""Background workers (dramatiq actors). The async backbone arrives with the messaging issue;
until then opsgraph has no background work."""
