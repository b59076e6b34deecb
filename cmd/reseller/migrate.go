package main

import "fmt"

type migrateCmd struct{}

func (c *migrateCmd) Help() string {
	return `Creates the database named by --db if it is a SQLite file that does not exist
yet, then applies the schema migrations it lacks. Migrations are embedded in
the binary and only ever move forward; running this twice is harmless.
'reseller serve' migrates on start too, so this is for deployments that
prepare a PostgreSQL database before starting the app instances.`
}

func (c *migrateCmd) Run(e *env) error {
	db, err := e.open(true)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(e.stderr, "Database %s (%s) is up to date.\n", redact(e.dsn), db.Dialect())
	return nil
}
