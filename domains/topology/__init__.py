"""Topology registry: projects, NGIs, sites, service types, services, endpoints,
service groups, scopes and extension properties (GOCDB's data model)."""
