{{/* Reseller Console schema. A text/template rendered once per dialect:
     {{id}}, {{int}} and {{blob}} are the dialect's types, and
     {{if sqlite}} / {{if postgres}} hold what only one of them has. */ -}}
-- Reseller Console schema. Times are integer microseconds since the Unix
-- epoch, UTC. Every table carries account_id (the distribution column when
-- accounts are sharded).

CREATE TABLE accounts (
	id         {{id}},
	name       TEXT    NOT NULL,
	created_at {{int}} NOT NULL
);

CREATE TABLE users (
	id            {{id}},
	account_id    {{int}} NOT NULL REFERENCES accounts(id),
	email         TEXT    NOT NULL UNIQUE,
	role          TEXT    NOT NULL CHECK (role IN ('owner', 'admin', 'operator', 'auditor')),
	password_hash TEXT    NOT NULL DEFAULT '',
	time_zone     TEXT    NOT NULL DEFAULT '',
	created_at    {{int}} NOT NULL
);
CREATE INDEX users_account ON users (account_id, id);
CREATE UNIQUE INDEX users_one_owner ON users (account_id) WHERE role = 'owner';

CREATE TABLE tokens (
	id           {{id}},
	account_id   {{int}}  NOT NULL REFERENCES accounts(id),
	user_id      {{int}}  NOT NULL REFERENCES users(id),
	name         TEXT     NOT NULL,
	hash         {{blob}} NOT NULL UNIQUE,
	created_at   {{int}}  NOT NULL,
	last_used_at {{int}},
	revoked_at   {{int}}
);
CREATE INDEX tokens_account ON tokens (account_id, id);

CREATE TABLE sessions (
	hash       {{blob}} PRIMARY KEY,
	account_id {{int}}  NOT NULL REFERENCES accounts(id),
	user_id    {{int}}  NOT NULL REFERENCES users(id),
	created_at {{int}}  NOT NULL,
	expires_at {{int}}  NOT NULL,
	ip         TEXT     NOT NULL DEFAULT '',
	user_agent TEXT     NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (account_id, user_id);

CREATE TABLE password_links (
	hash       {{blob}} PRIMARY KEY,
	account_id {{int}}  NOT NULL REFERENCES accounts(id),
	user_id    {{int}}  NOT NULL REFERENCES users(id),
	created_at {{int}}  NOT NULL,
	expires_at {{int}}  NOT NULL,
	used_at    {{int}}
);

CREATE TABLE clients (
	id         {{id}},
	account_id {{int}} NOT NULL REFERENCES accounts(id),
	email      TEXT    NOT NULL,
	name       TEXT    NOT NULL DEFAULT '',
	status     TEXT    NOT NULL CHECK (status IN ('active', 'suspended', 'deleted')),
	created_at {{int}} NOT NULL,
	updated_at {{int}} NOT NULL
);
CREATE INDEX clients_account ON clients (account_id, id);
CREATE UNIQUE INDEX clients_email ON clients (account_id, email) WHERE status <> 'deleted';

CREATE TABLE pools (
	id         {{id}},
	account_id {{int}} NOT NULL REFERENCES accounts(id),
	name       TEXT    NOT NULL,
	product    TEXT    NOT NULL,
	capacity   {{int}} NOT NULL CHECK (capacity >= 0),
	used       {{int}} NOT NULL DEFAULT 0 CHECK (used >= 0 AND used <= capacity),
	created_at {{int}} NOT NULL
);
CREATE INDEX pools_account ON pools (account_id, id);

CREATE TABLE licenses (
	id           {{id}},
	account_id   {{int}} NOT NULL REFERENCES accounts(id),
	pool_id      {{int}} NOT NULL REFERENCES pools(id),
	client_id    {{int}} NOT NULL REFERENCES clients(id),
	label        TEXT    NOT NULL DEFAULT '',
	status       TEXT    NOT NULL CHECK (status IN ('active', 'revoked')),
	allocated_at {{int}} NOT NULL,
	revoked_at   {{int}}
);
CREATE INDEX licenses_account ON licenses (account_id, id);
CREATE INDEX licenses_client ON licenses (account_id, client_id, id);
CREATE INDEX licenses_pool ON licenses (account_id, pool_id, id);

-- The head of each account's log: its size and the time of its last entry.
-- Appends lock this row, so that appends to one account's log (from several
-- app instances, on PostgreSQL) go one at a time, with gapless seqs and times
-- that never go backwards.
CREATE TABLE audit_heads (
	account_id   {{int}} PRIMARY KEY REFERENCES accounts(id),
	size         {{int}} NOT NULL,
	last_time_us {{int}} NOT NULL
);

CREATE TABLE audit_entries (
	account_id   {{int}}  NOT NULL REFERENCES accounts(id),
	seq          {{int}}  NOT NULL,
	time_us      {{int}}  NOT NULL,
	action       TEXT     NOT NULL,
	client_id    {{int}}  NOT NULL,
	target_email TEXT     NOT NULL,
	actor_id     {{int}}  NOT NULL,
	actor_email  TEXT     NOT NULL,
	record       {{blob}} NOT NULL,
	PRIMARY KEY (account_id, seq)
){{if sqlite}} WITHOUT ROWID{{end}};
CREATE INDEX audit_entries_time ON audit_entries (account_id, time_us, seq);
CREATE INDEX audit_entries_action ON audit_entries (account_id, action, seq);
CREATE INDEX audit_entries_target ON audit_entries (account_id, target_email, seq);
CREATE INDEX audit_entries_actor ON audit_entries (account_id, actor_email, seq);
CREATE INDEX audit_entries_client ON audit_entries (account_id, client_id, seq);

-- Merkle tree hashes in the stored-hash layout of golang.org/x/mod/sumdb/tlog.
CREATE TABLE audit_hashes (
	account_id {{int}}  NOT NULL REFERENCES accounts(id),
	idx        {{int}}  NOT NULL,
	hash       {{blob}} NOT NULL,
	PRIMARY KEY (account_id, idx)
){{if sqlite}} WITHOUT ROWID{{end}};

CREATE TABLE audit_checkpoints (
	account_id {{int}}  NOT NULL REFERENCES accounts(id),
	size       {{int}}  NOT NULL,
	root       {{blob}} NOT NULL,
	note       TEXT     NOT NULL,
	created_at {{int}}  NOT NULL,
	PRIMARY KEY (account_id, size)
);

-- The log is append-only: the database itself refuses changes.
{{- if sqlite}}
CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END;
CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END;
CREATE TRIGGER audit_hashes_no_update BEFORE UPDATE ON audit_hashes
BEGIN SELECT RAISE(ABORT, 'audit_hashes is append-only'); END;
CREATE TRIGGER audit_hashes_no_delete BEFORE DELETE ON audit_hashes
BEGIN SELECT RAISE(ABORT, 'audit_hashes is append-only'); END;
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;
{{- end}}
{{- if postgres}}
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
	FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
	FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_hashes_append_only BEFORE UPDATE OR DELETE ON audit_hashes
	FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_hashes_no_truncate BEFORE TRUNCATE ON audit_hashes
	FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
	FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
	FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
{{- end}}
