-- REPLACE (and INSERT OR REPLACE) deletes the row it overwrites without firing
-- DELETE triggers, so the append-only triggers of 001 do not see it. Refuse
-- every insert whose key is already taken, whatever its conflict clause.
CREATE TRIGGER audit_entries_no_replace BEFORE INSERT ON audit_entries
WHEN EXISTS (SELECT 1 FROM audit_entries WHERE account_id = NEW.account_id AND seq = NEW.seq)
BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END;
CREATE TRIGGER audit_hashes_no_replace BEFORE INSERT ON audit_hashes
WHEN EXISTS (SELECT 1 FROM audit_hashes WHERE account_id = NEW.account_id AND idx = NEW.idx)
BEGIN SELECT RAISE(ABORT, 'audit_hashes is append-only'); END;
CREATE TRIGGER audit_checkpoints_no_replace BEFORE INSERT ON audit_checkpoints
WHEN EXISTS (SELECT 1 FROM audit_checkpoints WHERE account_id = NEW.account_id AND size = NEW.size)
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;

-- A checkpoint can only be of a log that exists: never beyond its last entry.
CREATE TRIGGER audit_checkpoints_within_log BEFORE INSERT ON audit_checkpoints
WHEN NEW.size < 0 OR NEW.size > COALESCE((SELECT max(seq) FROM audit_entries WHERE account_id = NEW.account_id), 0)
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints: size beyond the log'); END;
