-- A checkpoint can only be of a log that exists: never beyond its last entry.
-- The app role may insert checkpoints, and this keeps it from inserting one
-- that would make every later check of the account fail.
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
