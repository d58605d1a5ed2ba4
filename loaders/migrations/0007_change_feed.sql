-- The durable change feed: one row per FIR change, written in the change's own transaction.
-- Positions come from a single counter row, updated in that transaction: its row lock is held until
-- commit, so a second writer waits, and positions become visible in the order they were given out.
-- A reader paging by position can never pass a row that commits later (a sequence could: its values
-- are taken before commit, in any order).
create table change_feed_counter (
    singleton boolean primary key default true check (singleton),
    last_position bigint not null
);
insert into change_feed_counter values (true, 0);

create type change_kind as enum (
    'RELEASE_PUBLISHED', 'RELEASE_WITHDRAWN', 'RELEASE_AMENDED',
    'CPL_ENTRY_LISTED', 'CPL_ENTRY_REMOVED', 'CONTACTS_CHANGED'
);

create table change_events (
    position bigint primary key,
    occurred_at timestamptz not null default now(),
    kind change_kind not null,
    manufacturer_id text not null,
    -- who may read the event: 'public' (the CPL), 'fir' (the published FIR), 'owner' (a submission's)
    audience text not null check (audience in ('public', 'fir', 'owner')),
    release_id bigint,
    cpl_entry_number integer
);
create index change_events_manufacturer on change_events (manufacturer_id, position);
