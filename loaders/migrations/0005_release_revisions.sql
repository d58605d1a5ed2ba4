-- Amendments: every revision of a release's amendable facts (notes, urgency, advisories, upgrade
-- sources). Revision 1, the release as submitted, is written when it is first amended; the release
-- row always holds the newest revision. Identity and image hash are not here: they never change.
create table release_revisions (
    release_id bigint not null references firmware_releases,
    revision int not null check (revision > 0),
    release_notes text,
    urgency urgency,
    advisories text[] not null,
    upgradable_from text[] not null,
    revised_at timestamptz not null,
    revised_by text,
    reason text,
    primary key (release_id, revision)
);

create trigger release_revisions_version after insert or update or delete on release_revisions
    for each statement execute function bump_data_version();
