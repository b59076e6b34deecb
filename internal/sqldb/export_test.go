package sqldb

// SetBeforeCommit installs a hook that runs in every write transaction just
// before it commits; an error from it rolls the transaction back.
func SetBeforeCommit(db *DB, fn func() error) { db.beforeCommit = fn }
