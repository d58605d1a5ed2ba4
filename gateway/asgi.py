"""ASGI entry point for uvicorn workers: `gateway.asgi:app_factory` (the CLI has already migrated)."""

from __future__ import annotations

from starlette.applications import Starlette

from gateway.app import create_app
from gateway.logs import configure
from gateway.settings import load_settings


def app_factory() -> Starlette:
    settings = load_settings()
    configure(settings.log_level, settings.log_json)
    if settings.database_url is None:
        raise RuntimeError("workers need DATABASE_URL; `fir serve` sets it for them")
    return create_app(settings, str(settings.database_url))
