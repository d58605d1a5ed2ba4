-- FIR graph core data model: manufacturers, contacts, device models, CPL entries,
-- firmware releases with upgrade edges (MP231), audit events and the data version.

create domain hex4 as text check (value ~ '^[0-9A-F]{4}$');
create domain hex8 as text check (value ~ '^[0-9A-F]{8}$');
create domain sha256_hex as text check (value ~ '^[0-9A-F]{64}$');

create type device_type as enum ('ESME', 'GSME', 'CHF', 'GPF', 'PPMID', 'HCALCS', 'IHD', 'CAD');
create type cpl_status as enum ('CURRENT', 'REMOVED');
create type release_status as enum ('DRAFT', 'SUBMITTED', 'PUBLISHED', 'WITHDRAWN');
create type urgency as enum ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL');
create type contact_role as enum ('FIRMWARE', 'SUPPORT', 'SECURITY');

create table manufacturers (
    manufacturer_id hex4 primary key,
    name text not null check (length(trim(name)) between 1 and 200),
    website text check (website is null or length(website) <= 500),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

-- Contacts are replaced as a set; replaced rows are retired, never deleted.
create table contacts (
    id bigint generated always as identity primary key,
    manufacturer_id hex4 not null references manufacturers,
    role contact_role not null,
    name text,
    email text,
    phone text,
    position int not null default 0,
    created_at timestamptz not null default now(),
    retired_at timestamptz
);
create index contacts_live on contacts (manufacturer_id, position) where retired_at is null;

create table device_models (
    manufacturer_id hex4 not null references manufacturers,
    model_id hex4 not null,
    name text,
    device_type device_type not null,
    created_at timestamptz not null default now(),
    primary key (manufacturer_id, model_id)
);
create index device_models_type on device_models (device_type, manufacturer_id, model_id);

create table cpl_entries (
    number int primary key check (number > 0),
    status cpl_status not null default 'CURRENT',
    manufacturer_id hex4 not null,
    model_id hex4 not null,
    hardware_version hex4 not null,
    firmware_version hex8 not null,
    device_type device_type not null,
    smets_chts_version text,
    gbcs_version text,
    image_hash sha256_hex not null,
    cpl_version text,
    listed_on date,
    removed_on date,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    foreign key (manufacturer_id, model_id) references device_models,
    -- one CPL entry per device identity; it also serves the identity lookup
    constraint cpl_entries_identity unique (manufacturer_id, model_id, hardware_version, firmware_version),
    check (removed_on is null or status = 'REMOVED')
);
create index cpl_entries_status on cpl_entries (status, number);
create index cpl_entries_manufacturer on cpl_entries (manufacturer_id, number);

create table firmware_releases (
    id bigint generated always as identity primary key,
    manufacturer_id hex4 not null,
    model_id hex4 not null,
    hardware_version hex4 not null,
    firmware_version hex8 not null,
    image_hash sha256_hex not null,
    status release_status not null,
    cpl_entry_number int references cpl_entries,
    release_date date,
    release_notes text check (release_notes is null or length(release_notes) <= 20000),
    urgency urgency,
    advisories text[] not null default '{}',
    idempotency_key text check (idempotency_key is null or length(idempotency_key) <= 200),
    submitted_by text,
    submitted_org text,
    submitted_at timestamptz not null default now(),
    published_at timestamptz,
    published_by text,
    withdrawn_at timestamptz,
    withdrawn_by text,
    withdrawn_reason text,
    updated_at timestamptz not null default now(),
    foreign key (manufacturer_id, model_id) references device_models,
    check ((status = 'PUBLISHED') <= (published_at is not null)),
    check ((status = 'WITHDRAWN') = (withdrawn_at is not null))
);
-- One live release per identity; withdrawn ones stay as history.
create unique index firmware_releases_identity on firmware_releases
    (manufacturer_id, model_id, hardware_version, firmware_version) where status <> 'WITHDRAWN';
create unique index firmware_releases_idempotency on firmware_releases (manufacturer_id, idempotency_key)
    where idempotency_key is not null;
-- lineage: every release of one model and hardware version
create index firmware_releases_lineage on firmware_releases
    (manufacturer_id, model_id, hardware_version, status);
create index firmware_releases_cpl on firmware_releases (cpl_entry_number);

-- MP231 upgrade pathways: the firmware versions (same model and hardware) that may
-- upgrade to a release. Keyed by version, so a path may start from firmware that has
-- a CPL entry but no FIR record.
create table release_upgradable_from (
    release_id bigint not null references firmware_releases,
    from_firmware_version hex8 not null,
    primary key (release_id, from_firmware_version)
);

create table audit_events (
    id bigint generated always as identity primary key,
    occurred_at timestamptz not null default clock_timestamp(),
    actor text not null,
    organisation text,
    action text not null,
    entity_type text not null,
    entity_id text not null,
    before jsonb,
    after jsonb
);
create index audit_events_time on audit_events (occurred_at desc, id desc);
create index audit_events_entity on audit_events (entity_type, entity_id, id desc);
create index audit_events_actor on audit_events (actor, id desc);

-- The data version: bumped in the same transaction as every write, announced on commit.
-- Response caches key on it and listen to 'fir_data_version'.
create table data_version (
    singleton boolean primary key default true check (singleton),
    version bigint not null
);
insert into data_version values (true, 1);

create function bump_data_version() returns trigger language plpgsql as $$
declare
    v bigint;
begin
    update data_version set version = version + 1 returning version into v;
    perform pg_notify('fir_data_version', v::text);
    return null;
end $$;

create trigger manufacturers_version after insert or update or delete on manufacturers
    for each statement execute function bump_data_version();
create trigger contacts_version after insert or update or delete on contacts
    for each statement execute function bump_data_version();
create trigger device_models_version after insert or update or delete on device_models
    for each statement execute function bump_data_version();
create trigger cpl_entries_version after insert or update or delete on cpl_entries
    for each statement execute function bump_data_version();
create trigger firmware_releases_version after insert or update or delete on firmware_releases
    for each statement execute function bump_data_version();
create trigger release_upgradable_from_version after insert or update or delete on release_upgradable_from
    for each statement execute function bump_data_version();
