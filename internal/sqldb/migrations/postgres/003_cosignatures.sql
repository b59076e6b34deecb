-- Witnesses' cosignatures of the log's checkpoints (C2SP tlog-cosignature),
-- served with the checkpoint they cosign. Append-only like the log itself.
CREATE TABLE audit_cosignatures (
	account_id BIGINT NOT NULL REFERENCES accounts(id),
	size       BIGINT NOT NULL,
	witness    TEXT   NOT NULL, -- the witness key's name and hash, as name+hash
	line       TEXT   NOT NULL, -- its signature line, ending in a newline
	created_at BIGINT NOT NULL,
	PRIMARY KEY (account_id, size, witness)
);
CREATE TRIGGER audit_cosignatures_append_only BEFORE UPDATE OR DELETE ON audit_cosignatures
	FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_cosignatures_no_truncate BEFORE TRUNCATE ON audit_cosignatures
	FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
