-- CPL issues: the numbered editions of the CPL ("Version 2.051 Issued on 21-09-2022"). Each entry
-- records the issue that first listed it and the one that removed it, so an issue can answer what
-- it added and removed; listed_on and removed_on take those issues' dates.
create table cpl_issues (
    number text primary key check (number ~ '^[0-9]+(\.[0-9]+)*$'),
    title text not null,
    issued_on date not null,
    first_seen_at timestamptz not null default now()
);

alter table cpl_entries
    add column listed_in text references cpl_issues,
    add column removed_in text references cpl_issues;
create index cpl_entries_listed_in on cpl_entries (listed_in, number) where listed_in is not null;
create index cpl_entries_removed_in on cpl_entries (removed_in, number) where removed_in is not null;

create trigger cpl_issues_version after insert or update or delete on cpl_issues
    for each statement execute function bump_data_version();
