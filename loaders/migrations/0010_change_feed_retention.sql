-- Retention of the change feed (FIR_CHANGE_FEED_RETENTION_DAYS): the oldest events may be pruned. The
-- counter row keeps the last position pruned, so a cursor from before it is refused (CURSOR_EXPIRED)
-- rather than silently resumed past events that are gone.
alter table change_feed_counter add column pruned_through bigint not null default 0;

-- A prune writes nothing else, and the response cache holds pages of the feed.
create trigger change_events_version after delete on change_events
    for each statement execute function bump_data_version();
