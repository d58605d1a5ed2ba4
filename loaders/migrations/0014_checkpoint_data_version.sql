-- A signed checkpoint changes answers (proofs, logConsistency, the newest checkpoint) and is written
-- in a transaction of its own, a few seconds after the change it covers: without this, a `proof: null`
-- cached in those seconds was served until some unrelated write.
create trigger tlog_checkpoints_version after insert on tlog_checkpoints
    for each statement execute function bump_data_version();
