-- The activity schema: what the plugins on clients' sites report. None of it
-- is the audit log. On SQLite it is a database file of its own beside the
-- main one (<db>-activity), written on its own connection, so that
-- check-ins never wait for the audit log's writer nor it for them; on
-- PostgreSQL it sits in the same database. Its tables name accounts,
-- clients and licenses by id, without foreign keys, which cannot cross
-- SQLite files. Times are integer microseconds since the epoch, UTC; days
-- are days since the epoch, UTC.

-- The latest check-in of each license.
CREATE TABLE license_state (
	account_id       {{int}} NOT NULL,
	license_id       {{int}} NOT NULL,
	client_id        {{int}} NOT NULL,
	site_url         TEXT    NOT NULL,
	plugin_version   TEXT    NOT NULL,
	platform_version TEXT    NOT NULL,
	score            {{int}} NOT NULL,
	last_seen_us     {{int}} NOT NULL,
	PRIMARY KEY (account_id, license_id)
);
CREATE INDEX license_state_client ON license_state (account_id, client_id);

-- The latest check-in of each client, over its licenses: what the clients
-- table and the dashboard sort and filter by.
CREATE TABLE client_state (
	account_id   {{int}} NOT NULL,
	client_id    {{int}} NOT NULL,
	license_id   {{int}} NOT NULL,
	score        {{int}} NOT NULL,
	last_seen_us {{int}} NOT NULL,
	PRIMARY KEY (account_id, client_id)
);
CREATE INDEX client_state_score ON client_state (account_id, score, client_id);
CREATE INDEX client_state_seen ON client_state (account_id, last_seen_us, client_id);

-- One row per license per day with check-ins, kept as long as the client.
CREATE TABLE activity_days (
	account_id {{int}} NOT NULL,
	license_id {{int}} NOT NULL,
	day        {{int}} NOT NULL,
	client_id  {{int}} NOT NULL,
	checkins   {{int}} NOT NULL,
	score_min  {{int}} NOT NULL,
	score_sum  {{int}} NOT NULL,
	score_last {{int}} NOT NULL,
	last_us    {{int}} NOT NULL,
	blocked    {{int}} NOT NULL,
	scans      {{int}} NOT NULL,
	critical   {{int}} NOT NULL,
	warning    {{int}} NOT NULL,
	info       {{int}} NOT NULL,
	PRIMARY KEY (account_id, license_id, day)
);
CREATE INDEX activity_days_client ON activity_days (account_id, client_id, day);

-- Raw check-ins, pruned after the retention period.
CREATE TABLE checkins (
	id             {{id}},
	account_id     {{int}} NOT NULL,
	license_id     {{int}} NOT NULL,
	client_id      {{int}} NOT NULL,
	time_us        {{int}} NOT NULL,
	score          {{int}} NOT NULL,
	blocked        {{int}} NOT NULL,
	scan_us        {{int}},
	files_scanned  {{int}} NOT NULL,
	critical       {{int}} NOT NULL,
	warning        {{int}} NOT NULL,
	info           {{int}} NOT NULL,
	alerts         {{int}} NOT NULL
);
CREATE INDEX checkins_time ON checkins (time_us);
CREATE INDEX checkins_scans ON checkins (account_id, client_id, scan_us) WHERE scan_us IS NOT NULL;

-- Alerts, one per license and key. Dismissing sets dismissed_*; nothing
-- deletes an alert.
CREATE TABLE alerts (
	id                 {{id}},
	account_id         {{int}} NOT NULL,
	client_id          {{int}} NOT NULL,
	license_id         {{int}} NOT NULL,
	key                TEXT    NOT NULL,
	severity           TEXT    NOT NULL CHECK (severity IN ('critical', 'warning', 'info')),
	kind               TEXT    NOT NULL,
	message            TEXT    NOT NULL,
	first_raised_us    {{int}} NOT NULL,
	last_raised_us     {{int}} NOT NULL,
	times_raised       {{int}} NOT NULL,
	dismissed_us       {{int}},
	dismissed_by_id    {{int}},
	dismissed_by_email TEXT    NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX alerts_key ON alerts (account_id, license_id, key);
CREATE INDEX alerts_recent ON alerts (account_id, last_raised_us, id);
CREATE INDEX alerts_active ON alerts (account_id, severity, last_raised_us, id) WHERE dismissed_us IS NULL;
CREATE INDEX alerts_client ON alerts (account_id, client_id, last_raised_us, id);
