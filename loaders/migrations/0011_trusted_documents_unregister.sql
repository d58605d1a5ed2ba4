-- Trusted documents may be unregistered (`fir unregister-documents`). Every gateway process remembers
-- bodies it has looked up, so each removal is announced on 'fir_trusted_documents' at commit, whatever
-- removed the row (the CLI, or an operator's own SQL): the payload is the id, or '*' for a truncate.
create function announce_untrusted() returns trigger language plpgsql as $$
begin
    if tg_op = 'TRUNCATE' then
        perform pg_notify('fir_trusted_documents', '*');
    else
        perform pg_notify('fir_trusted_documents', old.id);
    end if;
    return null;
end $$;

create trigger trusted_documents_removed after delete on trusted_documents
    for each row execute function announce_untrusted();
create trigger trusted_documents_truncated after truncate on trusted_documents
    for each statement execute function announce_untrusted();
