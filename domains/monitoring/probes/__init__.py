"""Probe execution: Nagios plugin output, built-in probes, the plugin runner, targets and
the egress rule, and the concurrent batch runner."""
