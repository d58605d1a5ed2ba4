-- Trusted documents (persisted operations): the operations an operator registered from client
-- manifests. Content-addressed (the id is the SHA-256 of the body), so a row never changes meaning;
-- every replica reads the same table, which is why they live here and not in a file per replica.
create table trusted_documents (
    id text primary key check (id ~ '^[0-9a-f]{64}$'),
    body text not null,
    name text,
    operation_type text,
    manifest text,
    registered_at timestamptz not null default now()
);
