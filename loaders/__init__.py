"""Every SQL statement of FIR graph: per-request DataLoaders, row dataclasses, migrations."""
