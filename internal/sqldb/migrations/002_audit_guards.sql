{{- if sqlite -}}
-- REPLACE (and INSERT OR REPLACE) deletes the row it overwrites without firing
-- DELETE triggers, so the append-only triggers of 001 do not see it. Refuse
-- every insert whose key is already taken, whatever its conflict clause.
-- (PostgreSQL has no REPLACE; its ON CONFLICT DO UPDATE fires UPDATE triggers.)
CREATE TRIGGER audit_entries_no_replace BEFORE INSERT ON audit_entries
WHEN EXISTS (SELECT 1 FROM audit_entries WHERE account_id = NEW.account_id AND seq = NEW.seq)
BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END;
CREATE TRIGGER audit_hashes_no_replace BEFORE INSERT ON audit_hashes
WHEN EXISTS (SELECT 1 FROM audit_hashes WHERE account_id = NEW.account_id AND idx = NEW.idx)
BEGIN SELECT RAISE(ABORT, 'audit_hashes is append-only'); END;
CREATE TRIGGER audit_checkpoints_no_replace BEFORE INSERT ON audit_checkpoints
WHEN EXISTS (SELECT 1 FROM audit_checkpoints WHERE account_id = NEW.account_id AND size = NEW.size)
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;

{{end -}}
-- A checkpoint can only be of a log that exists: never beyond its last entry.
-- The app role may insert checkpoints, and this keeps it from inserting one
-- that would make every later check of the account fail.
{{- if sqlite}}
CREATE TRIGGER audit_checkpoints_within_log BEFORE INSERT ON audit_checkpoints
WHEN NEW.size < 0 OR NEW.size > COALESCE((SELECT max(seq) FROM audit_entries WHERE account_id = NEW.account_id), 0)
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints: size beyond the log'); END;
{{- end}}
{{- if postgres}}
CREATE FUNCTION audit_checkpoint_within_log() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.size < 0 OR NEW.size > COALESCE((SELECT max(seq) FROM audit_entries WHERE account_id = NEW.account_id), 0) THEN
		RAISE EXCEPTION 'audit_checkpoints: size % is beyond the log of account %', NEW.size, NEW.account_id;
	END IF;
	RETURN NEW;
END;
$$;
CREATE TRIGGER audit_checkpoints_within_log BEFORE INSERT ON audit_checkpoints
	FOR EACH ROW EXECUTE FUNCTION audit_checkpoint_within_log();
{{- end}}
