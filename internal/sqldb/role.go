package sqldb

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/resellerconsole/reseller"
)

// The tables of the schema by what the app role may do with them. Every
// table is in exactly one list (TestAppRoleCoversSchema), so a migration
// that adds a table cannot leave it ungranted by accident.
var (
	// stateTables hold the current state, which the app changes.
	stateTables = []string{"accounts", "users", "tokens", "sessions", "password_links",
		"clients", "pools", "licenses", "audit_heads", "id_marks",
		// Plugin activity (migrations/activity): not history, pruned and updated.
		"license_state", "client_state", "activity_days", "checkins", "alerts"}
	// historyTables are the audit log. The app only ever appends to them,
	// so it gets SELECT and INSERT alone: even with the append-only
	// triggers dropped, the role cannot change or remove history.
	historyTables = []string{"audit_entries", "audit_hashes", "audit_checkpoints", "audit_cosignatures"}
	// readOnlyTables the app reads (serve checks that the schema is current).
	readOnlyTables = []string{"schema_migrations", "activity_migrations"}
)

// AppTables returns every table the app role is granted privileges on.
func AppTables() []string {
	return append(append(append([]string(nil), stateTables...), historyTables...), readOnlyTables...)
}

// plainIdent is a role name that needs no case folding or escaping to mean
// what it says. Quoting it anyway keeps keywords such as "user" harmless.
var plainIdent = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// GrantAppRole creates the PostgreSQL role the app instances should connect
// as, if it does not exist, and grants it exactly what `reseller serve`
// needs: CONNECT on the database, USAGE on the schema, read and write on the
// state tables and their identity sequences, only SELECT and INSERT on the
// audit log's tables, and SELECT on schema_migrations. Privileges the role
// had on those tables before are revoked first, so running it again leaves
// exactly this set.
//
// With a password the role can log in (an existing role gets the new
// password); without one a new role is NOLOGIN, and an existing role is left
// as it is. The password is sent as a SCRAM-SHA-256 verifier computed here,
// so the clear text reaches neither the server nor its statement log.
//
// It must run as the role that owns the tables, after Migrate, and needs
// CREATEROLE only to create the role. It refuses a superuser and any role
// that owns the tables or is a member of their owner: such a role could
// change history whatever is granted. Returns EINVALID for a bad name, a
// refused role, a caller that does not own the tables, or a SQLite database.
func (db *DB) GrantAppRole(ctx context.Context, role, password string) error {
	if !db.dialect.roles {
		return reseller.Errorf(reseller.EINVALID, "An app role is a PostgreSQL feature; a SQLite database is one file that the app opens itself.")
	}
	if !plainIdent.MatchString(role) || role == "public" || strings.HasPrefix(role, "pg_") {
		return reseller.Errorf(reseller.EINVALID, "Role name %q is not a plain identifier: use 1 to 63 lower-case letters, digits and underscores, starting with a letter or underscore (not public or pg_...).", role)
	}
	var verifier string
	if password != "" {
		var err error
		if verifier, err = scramVerifier(password); err != nil {
			return err
		}
	}
	quoted := `"` + role + `"`
	return db.update(ctx, func(ctx context.Context, tx *Tx) error {
		var super bool
		err := tx.queryRow(ctx, "SELECT rolsuper FROM pg_roles WHERE rolname = ?", role).Scan(&super)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			login := "NOLOGIN"
			if verifier != "" {
				login = "LOGIN PASSWORD " + quoteLiteral(verifier)
			}
			if _, err := tx.exec(ctx, "CREATE ROLE "+quoted+" WITH "+login); err != nil {
				return fmt.Errorf("create role %s: %w (creating it takes CREATEROLE; or create the role yourself and run this again)", role, err)
			}
		case err != nil:
			return err
		case super:
			return reseller.Errorf(reseller.EINVALID, "Role %s is a superuser, which no privilege can restrict; choose a role of its own for the app.", role)
		case verifier != "":
			if _, err := tx.exec(ctx, "ALTER ROLE "+quoted+" WITH LOGIN PASSWORD "+quoteLiteral(verifier)); err != nil {
				return fmt.Errorf("set the password of role %s: %w", role, err)
			}
		}
		var owner string
		var member, owns bool
		if err := tx.queryRow(ctx, `SELECT tableowner, pg_has_role(?::name, tableowner, 'MEMBER'), pg_has_role(tableowner, 'USAGE')
			FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'audit_entries'`, role).Scan(&owner, &member, &owns); err != nil {
			return notFoundSchema(err)
		}
		if !owns {
			// PostgreSQL only warns when someone else grants on tables it
			// does not own, and changes nothing: say so instead.
			return reseller.Errorf(reseller.EINVALID, "Only the owner of the tables (%s) can grant on them; run this as that role.", owner)
		}
		if member {
			return reseller.Errorf(reseller.EINVALID, "Role %s owns the tables or is a member of their owner %s, so it could change the audit log whatever is granted; choose a role of its own for the app.", role, owner)
		}

		var dbName, schema string
		if err := tx.queryRow(ctx, "SELECT quote_ident(current_database()), quote_ident(current_schema())").Scan(&dbName, &schema); err != nil {
			return err
		}
		stmts := []string{
			"GRANT CONNECT ON DATABASE " + dbName + " TO " + quoted,
			"GRANT USAGE ON SCHEMA " + schema + " TO " + quoted,
			"REVOKE ALL ON " + strings.Join(AppTables(), ", ") + " FROM " + quoted,
			"GRANT SELECT, INSERT, UPDATE, DELETE ON " + strings.Join(stateTables, ", ") + " TO " + quoted,
			"GRANT SELECT, INSERT ON " + strings.Join(historyTables, ", ") + " TO " + quoted,
			"GRANT SELECT ON " + strings.Join(readOnlyTables, ", ") + " TO " + quoted,
		}
		seqs, err := tx.identitySequences(ctx)
		if err != nil {
			return err
		}
		for _, s := range seqs {
			stmts = append(stmts, "REVOKE ALL ON SEQUENCE "+s+" FROM "+quoted,
				"GRANT USAGE, SELECT ON SEQUENCE "+s+" TO "+quoted)
		}
		for _, s := range stmts {
			if _, err := tx.exec(ctx, s); err != nil {
				return fmt.Errorf("%s: %w", s, err)
			}
		}
		return nil
	})
}

// identitySequences returns the sequences behind the state tables' identity
// columns, schema-qualified and quoted. INSERT needs them; the history
// tables have none.
func (tx *Tx) identitySequences(ctx context.Context) ([]string, error) {
	rows, err := tx.query(ctx, `SELECT table_name, pg_get_serial_sequence(quote_ident(table_name), column_name)
		FROM information_schema.columns
		WHERE table_schema = current_schema() AND is_identity = 'YES' ORDER BY table_name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var seqs []string
	for rows.Next() {
		var table string
		var seq sql.NullString
		if err := rows.Scan(&table, &seq); err != nil {
			return nil, err
		}
		if !seq.Valid {
			continue
		}
		for _, t := range stateTables {
			if t == table {
				seqs = append(seqs, seq.String)
			}
		}
	}
	return seqs, rows.Err()
}

func notFoundSchema(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return reseller.Errorf(reseller.EINVALID, "The database has no schema yet; migrate it first.")
	}
	return err
}

// quoteLiteral quotes s as an SQL string literal. Only used for SCRAM
// verifiers, which are base64 and punctuation, never quotes or backslashes;
// doubling quotes is there for safety, not need.
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// scramIterations is PostgreSQL's default (scram_iterations).
const scramIterations = 4096

// scramVerifier returns the SCRAM-SHA-256 verifier of password in the form
// PostgreSQL stores (RFC 5802, RFC 7677): given a verifier, CREATE ROLE
// stores it as is, so the clear text never leaves this process.
//
// PostgreSQL and its clients normalise passwords with SASLprep first; for
// printable ASCII that changes nothing, so we accept only that rather than
// risk a verifier that no client can match.
func scramVerifier(password string) (string, error) {
	for _, r := range password {
		if r < 0x20 || r > 0x7e {
			return "", reseller.Errorf(reseller.EINVALID, "The app role's password must be printable ASCII; for other passwords set it yourself with psql's \\password.")
		}
	}
	salt := make([]byte, 16)
	rand.Read(salt)
	return scramVerifierSalt(password, salt, scramIterations)
}

func scramVerifierSalt(password string, salt []byte, iter int) (string, error) {
	salted, err := pbkdf2.Key(sha256.New, password, salt, iter, sha256.Size)
	if err != nil {
		return "", err
	}
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	stored := sha256.Sum256(mac(salted, "Client Key"))
	server := mac(salted, "Server Key")
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", iter, b64(salt), b64(stored[:]), b64(server)), nil
}
