"""The availability/reliability engine: pure code (no database, no sqlmodel) that computes
ARGO's status timelines and daily, monthly and custom A/R exactly as ARGO's current code does
(reference monitoring-messaging-argo.md §3). `operations` and `aggregation` parse ARGO's
profile JSON, `timeline` builds and combines change-point timelines, `integrate` turns a day's
timeline into A/R, `pipeline` runs one report-day, `periods` averages days and supergroups."""
