"""The HTTP edge of FIR graph: app, settings, lifespan, authentication, CLI."""
