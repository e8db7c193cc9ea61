"""OIDC bearer-token authentication: JWT/JWKS validation and RFC 7662 introspection."""
