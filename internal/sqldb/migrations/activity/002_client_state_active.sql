-- Whether the client is active, copied into its latest state so that the
-- dashboard's average and counts read one table: set by each check-in
-- (which looks the client up) and right after a client's status changes.
ALTER TABLE client_state ADD COLUMN active {{int}} NOT NULL DEFAULT 1;
CREATE INDEX client_state_active ON client_state (account_id, active, last_seen_us, score);
