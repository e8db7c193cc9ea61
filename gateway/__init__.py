"""The HTTP face of opsgraph: Starlette app, GraphQL endpoint, auth, CLI."""
