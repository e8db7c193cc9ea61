"""Monitoring: the catalogue of probes, metrics and ARGO's profiles and reports; probes run by
workers; metric results; live status; availability and reliability as ARGO computes them."""
