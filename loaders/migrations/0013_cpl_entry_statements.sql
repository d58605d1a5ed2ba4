-- What the CPL issues imported so far have said of each entry, beyond its listing and removal: the
-- date of the newest issue that states the entry at all (changed or not), and of the newest that
-- states it Current. An older issue imported late is judged against the newest statement, not only
-- against the last change: with 2.051 (Current), 2.053 (Current, unchanged) imported, a late 2.052
-- (Removed) must not remove an entry that 2.053 shows Current. And an older issue that agrees with
-- the entry may move its listing or removal earlier, but a removal never before a Current statement.
alter table cpl_entries
    add column stated_on date,
    add column current_on date;

-- Entries from before: the newest date their listing, removal or Version names; Current ones were
-- Current then. A Removed one's last Current statement is unknown (left null; the import reads it
-- as no earlier than its removal, so no older issue moves that removal).
update cpl_entries e set
    stated_on = s.on,
    current_on = case when e.status = 'CURRENT' then s.on end
from cpl_entries e2
left join cpl_issues i on e2.cpl_version in (i.title, i.number)
cross join lateral (select greatest(e2.listed_on, e2.removed_on, i.issued_on) as on) s
where e2.number = e.number;
