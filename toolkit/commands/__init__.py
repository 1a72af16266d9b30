"""One module per CLI command; each imports only the standard library at module level."""
