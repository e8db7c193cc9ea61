"""What every domain shares: identity, errors, pagination, table metadata, loaders."""
