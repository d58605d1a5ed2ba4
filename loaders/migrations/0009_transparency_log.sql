-- The transparency log (issue 17): append-only leaves, the complete subtrees over them, and the
-- signed checkpoints. Nothing here is ever updated or deleted: triggers refuse it.
create table tlog_leaves (
    idx bigint primary key check (idx >= 0),
    leaf bytea not null,
    entity_type text not null,
    entity_id text not null,
    appended_at timestamptz not null default now()
);
create index tlog_leaves_entity on tlog_leaves (entity_type, entity_id, idx);

-- (level, idx): the RFC 6962 hash of the complete subtree of 2^level leaves from idx * 2^level.
create table tlog_nodes (
    level smallint not null check (level between 0 and 62),
    idx bigint not null check (idx >= 0),
    hash bytea not null check (length(hash) = 32),
    primary key (level, idx)
);

create table tlog_checkpoints (
    tree_size bigint primary key check (tree_size >= 0),
    root_hash bytea not null check (length(root_hash) = 32),
    note text not null,
    signed_at timestamptz not null default now()
);

create function tlog_refuse_change() returns trigger language plpgsql as $$
begin
    raise exception 'the transparency log is append-only: % on % refused', tg_op, tg_table_name
        using errcode = 'restrict_violation';
end $$;

create trigger tlog_leaves_append_only before update or delete on tlog_leaves
    for each row execute function tlog_refuse_change();
create trigger tlog_leaves_no_truncate before truncate on tlog_leaves
    for each statement execute function tlog_refuse_change();
create trigger tlog_nodes_append_only before update or delete on tlog_nodes
    for each row execute function tlog_refuse_change();
create trigger tlog_nodes_no_truncate before truncate on tlog_nodes
    for each statement execute function tlog_refuse_change();
create trigger tlog_checkpoints_append_only before update or delete on tlog_checkpoints
    for each row execute function tlog_refuse_change();
create trigger tlog_checkpoints_no_truncate before truncate on tlog_checkpoints
    for each statement execute function tlog_refuse_change();
