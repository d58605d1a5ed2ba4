-- Fleet checks of a file (POST /fleet-checks). Job state and the report's bytes live here, not on a
-- replica's disk, so that any replica behind the router answers GET /fleet-checks/{id} and streams
-- the report, whichever replica ran the check. Results are temporary: deleted once expired.
create table fleet_checks (
    id uuid primary key,
    owner text not null,
    input_kind text not null,
    report_kind text not null,
    stage text not null default 'queued',
    rows bigint,
    summary jsonb,
    tables jsonb,
    problems jsonb,
    error text,
    report_bytes bigint,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    expires_at timestamptz not null
);
create index fleet_checks_expiry on fleet_checks (expires_at);

create table fleet_check_chunks (
    check_id uuid not null references fleet_checks (id) on delete cascade,
    seq integer not null,
    data bytea not null,
    primary key (check_id, seq)
);
