-- Witnesses' cosignatures of the log's checkpoints (C2SP tlog-cosignature),
-- served with the checkpoint they cosign. Append-only like the log itself.
CREATE TABLE audit_cosignatures (
	account_id {{int}} NOT NULL REFERENCES accounts(id),
	size       {{int}} NOT NULL,
	witness    TEXT    NOT NULL, -- the witness key's name and hash, as name+hash
	line       TEXT    NOT NULL, -- its signature line, ending in a newline
	created_at {{int}} NOT NULL,
	PRIMARY KEY (account_id, size, witness)
);
{{- if sqlite}}
CREATE TRIGGER audit_cosignatures_no_update BEFORE UPDATE ON audit_cosignatures
BEGIN SELECT RAISE(ABORT, 'audit_cosignatures is append-only'); END;
CREATE TRIGGER audit_cosignatures_no_delete BEFORE DELETE ON audit_cosignatures
BEGIN SELECT RAISE(ABORT, 'audit_cosignatures is append-only'); END;
CREATE TRIGGER audit_cosignatures_no_replace BEFORE INSERT ON audit_cosignatures
WHEN EXISTS (SELECT 1 FROM audit_cosignatures WHERE account_id = NEW.account_id AND size = NEW.size AND witness = NEW.witness)
BEGIN SELECT RAISE(ABORT, 'audit_cosignatures is append-only'); END;
{{- end}}
{{- if postgres}}
CREATE TRIGGER audit_cosignatures_append_only BEFORE UPDATE OR DELETE ON audit_cosignatures
	FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_cosignatures_no_truncate BEFORE TRUNCATE ON audit_cosignatures
	FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
{{- end}}
