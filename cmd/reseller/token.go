package main

import (
	"fmt"

	"github.com/resellerconsole/reseller"
)

type tokenCmd struct {
	Create tokenCreateCmd `cmd:"" help:"Issue an API token for a user and print it."`
}

type tokenCreateCmd struct {
	User string `required:"" placeholder:"EMAIL" help:"Email of the user the token acts as."`
	Name string `placeholder:"N" help:"What the token is for, e.g. \"billing sync\" (default \"API token\")."`
}

func (c *tokenCreateCmd) Help() string {
	return `Issues an API token that acts as the user, with the user's role, and prints
it alone on stdout. Only a hash is stored, so this is the one time the token
is shown. Send it as 'Authorization: Bearer TOKEN' to the /api/v1 endpoints;
actions taken with it are recorded with the token's id. Issuing it is
recorded in the account's audit log as token.created by the platform
operator: only the operator can issue a token for someone else. Users who
manage the team revoke tokens from the console or the API.`
}

// Validate refuses a malformed command line (exit 2).
func (c *tokenCreateCmd) Validate() error {
	if c.User == "" {
		return nil // kong reports the missing flag
	}
	return usage(reseller.NormalizeEmail(c.User))
}

func (c *tokenCreateCmd) Run(e *env) error {
	db, err := e.open(false)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := db.FindUserByEmail(e.ctx, c.User)
	if err != nil {
		return err
	}
	t, secret, err := db.CreateTokenFor(asOperator(e.ctx, u.AccountID), u.ID, c.Name)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, secret)
	fmt.Fprintf(e.stderr, "Issued token %d %q for %s (%s) of account %d. It is shown only now.\n", t.ID, t.Name, u.Email, u.Role, u.AccountID)
	return nil
}
