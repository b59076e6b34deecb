-- Ids of users and tokens are never handed out twice. SQLite gives a new row
-- the largest id plus one, so removing the newest user (or token) would give
-- its id to the next one, and "user 12" in the audit log would name two
-- people. On SQLite the store takes those ids from here instead; PostgreSQL's
-- identity columns never reuse an id, and leave the table unused.
CREATE TABLE id_marks (
	tbl  TEXT    PRIMARY KEY,
	last {{int}} NOT NULL
);
INSERT INTO id_marks (tbl, last) SELECT 'users', COALESCE(max(id), 0) FROM users;
INSERT INTO id_marks (tbl, last) SELECT 'tokens', COALESCE(max(id), 0) FROM tokens;
