package sqldb

import (
	"net/url"
	"regexp"
	"strings"
)

// IsPostgres reports whether dsn names a PostgreSQL database: a postgres://
// or postgresql:// URL, or a libpq key/value string such as
// "host=db.internal dbname=reseller user=app".
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") || isKeyValueDSN(dsn)
}

// libpqKeys are the connection parameters a key/value string may start with.
var libpqKeys = map[string]bool{
	"host": true, "hostaddr": true, "port": true, "dbname": true, "user": true, "password": true,
	"sslmode": true, "service": true, "connect_timeout": true, "application_name": true, "options": true,
	"sslrootcert": true, "sslcert": true, "sslkey": true, "target_session_attrs": true, "passfile": true,
}

// isKeyValueDSN reports whether dsn is a libpq key/value connection string:
// every space-separated word (outside quotes) starts with a known key and =.
func isKeyValueDSN(dsn string) bool {
	dsn = strings.TrimSpace(dsn)
	if dsn == "" || strings.Contains(dsn, "://") {
		return false
	}
	k, _, ok := strings.Cut(dsn, "=")
	return ok && libpqKeys[strings.TrimSpace(k)]
}

// Scheme returns the URL scheme of dsn ("postgres", "mysql"...), or "" for
// a path or a key/value string.
func Scheme(dsn string) string {
	i := strings.Index(dsn, "://")
	if i <= 0 {
		return ""
	}
	s := dsn[:i]
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.') {
			return ""
		}
	}
	return strings.ToLower(s)
}

var kvPassword = regexp.MustCompile(`(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// Redact returns dsn with any password hidden, whatever its form: the user
// information or a password parameter of a URL, or the password of a
// key/value string. Use it wherever a DSN is shown or logged.
func Redact(dsn string) string {
	if isKeyValueDSN(dsn) {
		return kvPassword.ReplaceAllString(dsn, "${1}xxxxx")
	}
	if Scheme(dsn) != "" {
		u, err := url.Parse(dsn)
		if err != nil {
			return Scheme(dsn) + "://…"
		}
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.Redacted()
	}
	return dsn
}
