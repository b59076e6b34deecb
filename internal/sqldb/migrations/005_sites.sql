-- Protected sites (DESIGN.md 3b). A client's site URL, and the key of each
-- license, kept as its SHA-256 like API tokens. Licenses allocated before
-- this migration have no key until one is re-issued. What the plugins
-- report is not here: it lives in the activity schema (migrations/activity),
-- which SQLite keeps in a file of its own.
ALTER TABLE clients ADD COLUMN site_url TEXT NOT NULL DEFAULT '';
ALTER TABLE licenses ADD COLUMN key_hash {{blob}};
CREATE UNIQUE INDEX licenses_key ON licenses (key_hash) WHERE key_hash IS NOT NULL;
CREATE INDEX clients_status ON clients (account_id, status);
