-- Reseller Console schema, SQLite. Times are integer microseconds since the
-- Unix epoch, UTC. Every table carries account_id.

CREATE TABLE accounts (
	id         INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL,
	created_at INTEGER NOT NULL
);

CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	account_id    INTEGER NOT NULL REFERENCES accounts(id),
	email         TEXT    NOT NULL UNIQUE,
	role          TEXT    NOT NULL CHECK (role IN ('owner', 'admin', 'operator', 'auditor')),
	password_hash TEXT    NOT NULL DEFAULT '',
	time_zone     TEXT    NOT NULL DEFAULT '',
	created_at    INTEGER NOT NULL
);
CREATE INDEX users_account ON users (account_id, id);
CREATE UNIQUE INDEX users_one_owner ON users (account_id) WHERE role = 'owner';

CREATE TABLE tokens (
	id           INTEGER PRIMARY KEY,
	account_id   INTEGER NOT NULL REFERENCES accounts(id),
	user_id      INTEGER NOT NULL REFERENCES users(id),
	name         TEXT    NOT NULL,
	hash         BLOB    NOT NULL UNIQUE,
	created_at   INTEGER NOT NULL,
	last_used_at INTEGER,
	revoked_at   INTEGER
);
CREATE INDEX tokens_account ON tokens (account_id, id);

CREATE TABLE sessions (
	hash       BLOB    PRIMARY KEY,
	account_id INTEGER NOT NULL REFERENCES accounts(id),
	user_id    INTEGER NOT NULL REFERENCES users(id),
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	ip         TEXT    NOT NULL DEFAULT '',
	user_agent TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (account_id, user_id);

CREATE TABLE password_links (
	hash       BLOB    PRIMARY KEY,
	account_id INTEGER NOT NULL REFERENCES accounts(id),
	user_id    INTEGER NOT NULL REFERENCES users(id),
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	used_at    INTEGER
);

CREATE TABLE clients (
	id         INTEGER PRIMARY KEY,
	account_id INTEGER NOT NULL REFERENCES accounts(id),
	email      TEXT    NOT NULL,
	name       TEXT    NOT NULL DEFAULT '',
	status     TEXT    NOT NULL CHECK (status IN ('active', 'suspended', 'deleted')),
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);
CREATE INDEX clients_account ON clients (account_id, id);
CREATE UNIQUE INDEX clients_email ON clients (account_id, email) WHERE status <> 'deleted';

CREATE TABLE pools (
	id         INTEGER PRIMARY KEY,
	account_id INTEGER NOT NULL REFERENCES accounts(id),
	name       TEXT    NOT NULL,
	product    TEXT    NOT NULL,
	capacity   INTEGER NOT NULL CHECK (capacity >= 0),
	used       INTEGER NOT NULL DEFAULT 0 CHECK (used >= 0 AND used <= capacity),
	created_at INTEGER NOT NULL
);
CREATE INDEX pools_account ON pools (account_id, id);

CREATE TABLE licenses (
	id           INTEGER PRIMARY KEY,
	account_id   INTEGER NOT NULL REFERENCES accounts(id),
	pool_id      INTEGER NOT NULL REFERENCES pools(id),
	client_id    INTEGER NOT NULL REFERENCES clients(id),
	label        TEXT    NOT NULL DEFAULT '',
	status       TEXT    NOT NULL CHECK (status IN ('active', 'revoked')),
	allocated_at INTEGER NOT NULL,
	revoked_at   INTEGER
);
CREATE INDEX licenses_account ON licenses (account_id, id);
CREATE INDEX licenses_client ON licenses (account_id, client_id, id);
CREATE INDEX licenses_pool ON licenses (account_id, pool_id, id);

-- The head of each account's log: its size and the time of its last entry,
-- so that appends are serialised per account and times never go backwards.
CREATE TABLE audit_heads (
	account_id   INTEGER PRIMARY KEY REFERENCES accounts(id),
	size         INTEGER NOT NULL,
	last_time_us INTEGER NOT NULL
);

CREATE TABLE audit_entries (
	account_id   INTEGER NOT NULL REFERENCES accounts(id),
	seq          INTEGER NOT NULL,
	time_us      INTEGER NOT NULL,
	action       TEXT    NOT NULL,
	client_id    INTEGER NOT NULL,
	target_email TEXT    NOT NULL,
	actor_id     INTEGER NOT NULL,
	actor_email  TEXT    NOT NULL,
	record       BLOB    NOT NULL,
	PRIMARY KEY (account_id, seq)
) WITHOUT ROWID;
CREATE INDEX audit_entries_time ON audit_entries (account_id, time_us, seq);
CREATE INDEX audit_entries_action ON audit_entries (account_id, action, seq);
CREATE INDEX audit_entries_target ON audit_entries (account_id, target_email, seq);
CREATE INDEX audit_entries_actor ON audit_entries (account_id, actor_email, seq);
CREATE INDEX audit_entries_client ON audit_entries (account_id, client_id, seq);

-- Merkle tree hashes in the stored-hash layout of golang.org/x/mod/sumdb/tlog.
CREATE TABLE audit_hashes (
	account_id INTEGER NOT NULL REFERENCES accounts(id),
	idx        INTEGER NOT NULL,
	hash       BLOB    NOT NULL,
	PRIMARY KEY (account_id, idx)
) WITHOUT ROWID;

CREATE TABLE audit_checkpoints (
	account_id INTEGER NOT NULL REFERENCES accounts(id),
	size       INTEGER NOT NULL,
	root       BLOB    NOT NULL,
	note       TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (account_id, size)
);

-- The log is append-only: the database itself refuses changes.
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
