"""Token validation at the edge: JWKS discovery and caching, bearer tokens to `Principal`, the dev issuer."""
