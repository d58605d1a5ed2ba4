"""The compiled executor: a validated query walked once against the schema into specialised closures."""
