-- An ordinary update of a CPL entry (its device type, SMETS/CHTS or GBCS version, as the CPL import
-- compares them) is a change feed event too: a supplier that follows the feed instead of re-reading
-- the CPL must hear of it.
alter type change_kind add value 'CPL_ENTRY_UPDATED' after 'CPL_ENTRY_REMOVED';
