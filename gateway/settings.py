"""Every setting FIR graph reads, from the environment or a `.env` file; nothing else reads either."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs
from starlette.config import Config
from starlette.datastructures import Secret

from resolvers.context import InputCapsByPrincipal
from schema.introspection import Introspection

LOOPBACK_NAMES = frozenset({"localhost", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Settings:
    database_url: Secret | None
    data_dir: Path
    host: str
    port: int
    workers: int
    oidc_issuer: str | None
    oidc_audience: str
    oidc_algorithms: tuple[str, ...]
    oidc_leeway: int
    jwks_ttl: int
    jwks_min_refresh_interval: float
    verified_tokens_max: int
    verified_tokens_ttl: float
    manufacturer_claim: str
    dev_auth: bool
    public_url: str | None
    pool_min: int
    pool_max: int
    max_depth: int
    max_aliases: int
    max_tokens: int
    # query cost budgets (schema.limits.Budgets): anonymous, fir:read, fir:publish, fir:admin
    budget_anonymous: int
    budget_reader: int
    budget_publisher: int
    budget_admin: int
    max_page_size: int
    max_fleet_devices: int
    # Input caps per principal tier (anonymous, authenticated, admin): see resolvers.context.InputCaps.
    max_body_bytes: tuple[int, int, int]
    max_list_items: tuple[int, int, int]
    max_entities: tuple[int, int, int]
    max_string_length: int
    cache_enabled: bool
    cache_max_entries: int
    cache_max_bytes: int
    log_level: str
    log_json: bool
    # fleet checks of a file (POST /fleet-checks, fir fleet-check)
    fleet_check_ttl: int = 24 * 3600  # seconds a result is kept
    fleet_check_max_bytes: int = 4 * 1024**3  # the upload's own bound (/graphql's body cap is not for it)
    fleet_memory_limit: str = "512MB"  # DuckDB's, per check: past it, it spills to disk
    # an upload has no whole-body deadline: it may stall at most body_timeout, and past that long it
    # must keep an average of at least this many bytes a second (gateway.fleet_checks)
    upload_min_rate: int = 64 * 1024
    # days the change feed keeps an event (gateway.feed_retention, `fir prune-changes`); 0: every event, forever
    change_feed_retention_days: int = 365
    # the CLI as a client of a remote gateway: `fir fleet-check --url/--token`
    fir_url: str | None = None
    fir_token: Secret | None = None
    # Slow work and slow clients (gateway.deadline, gateway.slow_clients), WebSocket caps.
    request_timeout: float = 30.0
    body_timeout: float = 10.0
    header_timeout: float = 10.0
    keepalive_timeout: int = 5
    ws_max_connections: int = 20
    ws_max_subscriptions: int = 20
    ws_init_timeout: float = 10.0
    # GraphiQL at GET /graphql (off for a public deployment; `make run` turns it on)
    graphiql: bool = False
    # who may introspect: all, authenticated (any valid token), off
    introspection: Introspection = Introspection.AUTHENTICATED
    # POST /baseline/device, the benchmark yardstick (gateway.baseline); off in production.
    baseline_endpoint: bool = False
    gc_tuning: bool = True
    gc_young_threshold: int = 20_000
    # queries run from a plan compiled once per document (schema/compiled); 0: graphql-core's executor
    compiled_executor: bool = True
    # a document seen before skips strawberry's per-request pipeline (schema/lane.py); 0: never
    operation_lane: bool = True
    # the usual POST of one JSON operation skips strawberry's generic view (gateway/fast_lane.py); 0: never
    fast_lane: bool = True
    # JOSE `typ` values accepted for access tokens, normalised (see access_token_type)
    oidc_allowed_types: tuple[str, ...] = ("at+jwt",)
    # Classes of caller (anonymous, read, publish, admin) that may run registered documents only.
    trusted_documents_only: frozenset[str] = frozenset()
    # the transparency log (gateway/log_signer.py): checkpoint origin, Ed25519 key, signing interval
    log_origin: str = "fir-graph/log"
    log_signing_key: Secret | None = None
    log_signing_key_file: Path | None = None
    log_checkpoint_interval: float = 2.0
    # Prometheus multiprocess mode (gateway/shared_metrics.py): set by `fir serve --workers N` for N > 1
    metrics_dir: Path | None = None
    # streaming replicas that answer queries (gateway/replicas.py); writes and LISTEN stay on the primary
    read_urls: tuple[Secret, ...] = ()
    replica_wait_ms: int = 250  # how long a read with FIR-Read-After waits for a replica to replay it
    replica_max_lag_ms: int = 5000  # a replica further behind than either bound is skipped
    replica_max_lag_bytes: int = 64 * 1024 * 1024
    replica_check_interval: float = 0.5  # seconds between checks of every replica

    @property
    def loopback_only(self) -> bool:
        return is_loopback(self.host)

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def dev_issuer(self) -> str:
        return f"{self.base_url}/dev-oidc"


def access_token_type(typ: str) -> str:
    """A JOSE `typ` as compared: case-insensitive, "application/" optional (RFC 7515, section 4.1.9)."""
    lowered = typ.strip().lower()
    return lowered.removeprefix("application/")


def _types(value: str) -> tuple[str, ...]:
    found = tuple(dict.fromkeys(access_token_type(t) for t in value.split(",") if t.strip()))
    return found or ("at+jwt",)


def _default_caps(name: str) -> tuple[int, int, int]:
    tiers = InputCapsByPrincipal()
    anonymous, authenticated, admin = (
        getattr(t, name) for t in (tiers.anonymous, tiers.authenticated, tiers.admin)
    )
    return anonymous, authenticated, admin


def _tiers(config: Config, name: str, defaults: tuple[int, int, int]) -> tuple[int, int, int]:
    """FIR_<NAME>_ANONYMOUS, FIR_<NAME>_AUTHENTICATED and FIR_<NAME>_ADMIN."""
    anonymous, authenticated, admin = (
        config(f"FIR_{name}_{tier}", cast=int, default=default)
        for tier, default in zip(("ANONYMOUS", "AUTHENTICATED", "ADMIN"), defaults, strict=True)
    )
    return anonymous, authenticated, admin


def _default_data_dir() -> str:
    return platformdirs.user_data_dir("fir-graph", appauthor=False)


def _secret(value: str | None) -> Secret | None:
    return Secret(value) if value else None


def load_settings(env_file: str | os.PathLike[str] | None = ".env") -> Settings:
    """Read settings once; `.env` fills in what the environment leaves unset."""
    path = Path(env_file) if env_file else None
    config = Config(path if path is not None and path.is_file() else None)
    database_url = config("DATABASE_URL", cast=Secret, default=None)
    issuer = config("FIR_OIDC_ISSUER", default=None) or None
    return Settings(
        database_url=database_url if database_url and str(database_url) else None,
        data_dir=Path(config("FIR_DATA_DIR", default=_default_data_dir())).expanduser(),
        host=config("FIR_HOST", default="127.0.0.1"),
        port=config("FIR_PORT", cast=int, default=8000),
        workers=config("FIR_WORKERS", cast=int, default=1),
        oidc_issuer=issuer.rstrip("/") if issuer else None,
        oidc_audience=config("FIR_OIDC_AUDIENCE", default="fir-graph"),
        oidc_algorithms=tuple(
            a.strip()
            for a in config("FIR_OIDC_ALGORITHMS", default="RS256,PS256,ES256,EdDSA").split(",")
            if a
        ),
        oidc_leeway=min(config("FIR_OIDC_LEEWAY", cast=int, default=30), 60),
        jwks_ttl=config("FIR_JWKS_TTL", cast=int, default=600),
        jwks_min_refresh_interval=config("FIR_JWKS_MIN_REFRESH", cast=float, default=10.0),
        verified_tokens_max=config("FIR_VERIFIED_TOKENS_MAX", cast=int, default=4096),
        verified_tokens_ttl=config("FIR_VERIFIED_TOKENS_TTL", cast=float, default=60.0),
        manufacturer_claim=config("FIR_MANUFACTURER_CLAIM", default="fir_manufacturer"),
        dev_auth=config("FIR_DEV_AUTH", cast=bool, default=False),
        public_url=config("FIR_PUBLIC_URL", default=None) or None,
        pool_min=config("FIR_DB_POOL_MIN", cast=int, default=2),
        pool_max=config("FIR_DB_POOL_MAX", cast=int, default=10),
        max_depth=config("FIR_MAX_DEPTH", cast=int, default=15),
        max_aliases=config("FIR_MAX_ALIASES", cast=int, default=30),
        max_tokens=config("FIR_MAX_TOKENS", cast=int, default=5000),
        budget_anonymous=config("FIR_COST_BUDGET_ANONYMOUS", cast=int, default=20_000),
        budget_reader=config("FIR_COST_BUDGET_READER", cast=int, default=2_000_000),
        budget_publisher=config("FIR_COST_BUDGET_PUBLISHER", cast=int, default=3_000_000),
        budget_admin=config("FIR_COST_BUDGET_ADMIN", cast=int, default=20_000_000),
        max_page_size=config("FIR_MAX_PAGE_SIZE", cast=int, default=100),
        max_fleet_devices=config("FIR_MAX_FLEET_DEVICES", cast=int, default=1_000_000),
        max_body_bytes=_tiers(config, "MAX_BODY_BYTES", _default_caps("body_bytes")),
        max_list_items=_tiers(config, "MAX_LIST_ITEMS", _default_caps("list_items")),
        max_entities=_tiers(config, "MAX_ENTITIES", _default_caps("entities")),
        max_string_length=config("FIR_MAX_STRING_LENGTH", cast=int, default=65_536),
        cache_enabled=config("FIR_CACHE", cast=bool, default=True),
        cache_max_entries=config("FIR_CACHE_MAX_ENTRIES", cast=int, default=10_000),
        cache_max_bytes=config("FIR_CACHE_MAX_BYTES", cast=int, default=64 * 1024 * 1024),
        log_level=config("FIR_LOG_LEVEL", default="INFO").upper(),
        log_json=config("FIR_LOG_JSON", cast=bool, default=False),
        request_timeout=config("FIR_REQUEST_TIMEOUT", cast=float, default=30.0),
        body_timeout=config("FIR_BODY_TIMEOUT", cast=float, default=10.0),
        header_timeout=config("FIR_HEADER_TIMEOUT", cast=float, default=10.0),
        keepalive_timeout=config("FIR_KEEPALIVE_TIMEOUT", cast=int, default=5),
        ws_max_connections=config("FIR_WS_MAX_CONNECTIONS", cast=int, default=20),
        ws_max_subscriptions=config("FIR_WS_MAX_SUBSCRIPTIONS", cast=int, default=20),
        ws_init_timeout=config("FIR_WS_INIT_TIMEOUT", cast=float, default=10.0),
        baseline_endpoint=config("FIR_BASELINE_ENDPOINT", cast=bool, default=False),
        gc_tuning=config("FIR_GC_TUNING", cast=bool, default=True),
        gc_young_threshold=config("FIR_GC_YOUNG_THRESHOLD", cast=int, default=20_000),
        compiled_executor=config("FIR_COMPILED_EXECUTOR", cast=bool, default=True),
        operation_lane=config("FIR_OPERATION_LANE", cast=bool, default=True),
        fast_lane=config("FIR_FAST_LANE", cast=bool, default=True),
        oidc_allowed_types=_types(config("FIR_OIDC_ALLOWED_TYPES", default="at+jwt")),
        fleet_check_ttl=config("FIR_FLEET_CHECK_TTL", cast=int, default=24 * 3600),
        fleet_check_max_bytes=config("FIR_FLEET_CHECK_MAX_BYTES", cast=int, default=4 * 1024**3),
        fleet_memory_limit=config("FIR_FLEET_MEMORY_LIMIT", default="512MB"),
        upload_min_rate=config("FIR_UPLOAD_MIN_RATE", cast=int, default=64 * 1024),
        change_feed_retention_days=_days(config("FIR_CHANGE_FEED_RETENTION_DAYS", cast=int, default=365)),
        fir_url=config("FIR_URL", default=None) or None,
        fir_token=_secret(config("FIR_TOKEN", default=None)),
        trusted_documents_only=_classes(config("FIR_TRUSTED_DOCUMENTS_ONLY", default="")),
        graphiql=config("FIR_GRAPHIQL", cast=bool, default=False),
        introspection=config("FIR_INTROSPECTION", cast=_introspection, default="authenticated"),
        log_origin=config("FIR_LOG_ORIGIN", default="fir-graph/log"),
        log_signing_key=_secret(config("FIR_LOG_SIGNING_KEY", default=None)),
        log_signing_key_file=_path(config("FIR_LOG_SIGNING_KEY_FILE", default=None)),
        log_checkpoint_interval=config("FIR_LOG_CHECKPOINT_INTERVAL", cast=float, default=2.0),
        metrics_dir=_path(config("PROMETHEUS_MULTIPROC_DIR", default=None)),
        read_urls=_urls(config("FIR_DATABASE_READ_URLS", default="")),
        replica_wait_ms=config("FIR_REPLICA_WAIT_MS", cast=int, default=250),
        replica_max_lag_ms=config("FIR_REPLICA_MAX_LAG_MS", cast=int, default=5000),
        replica_max_lag_bytes=config("FIR_REPLICA_MAX_LAG_BYTES", cast=int, default=64 * 1024 * 1024),
        replica_check_interval=config("FIR_REPLICA_CHECK_INTERVAL", cast=float, default=0.5),
    )


PRINCIPAL_CLASSES = ("anonymous", "read", "publish", "admin")


def _days(days: int) -> int:
    if days < 0:
        raise ValueError("FIR_CHANGE_FEED_RETENTION_DAYS: a number of days, or 0 to keep every event")
    return days


def _classes(raw: str) -> frozenset[str]:
    """`anonymous,read`: a comma-separated list of principal classes; a misspelling stops the start."""
    found = frozenset(c.strip().lower() for c in raw.split(",") if c.strip())
    unknown = found - set(PRINCIPAL_CLASSES)
    if unknown:
        raise ValueError(
            f"FIR_TRUSTED_DOCUMENTS_ONLY: unknown {', '.join(sorted(unknown))}; use {', '.join(PRINCIPAL_CLASSES)}"
        )
    return found


def _introspection(value: str) -> Introspection:
    try:
        return Introspection(value.strip().lower())
    except ValueError:
        choices = ", ".join(mode.value for mode in Introspection)
        raise ValueError(f"FIR_INTROSPECTION must be one of {choices}, not {value!r}") from None


def _urls(raw: str) -> tuple[Secret, ...]:
    """FIR_DATABASE_READ_URLS: comma-separated PostgreSQL URLs, kept secret (they may carry passwords)."""
    return tuple(Secret(url.strip()) for url in raw.split(",") if url.strip())


def _path(value: str | None) -> Path | None:
    return Path(value).expanduser() if value else None
