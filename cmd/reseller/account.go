package main

import (
	"fmt"
	"text/tabwriter"
	"time"
)

type accountCmd struct {
	Create accountCreateCmd `cmd:"" help:"Create an account and print its id."`
	List   accountListCmd   `cmd:"" help:"List every account."`
}

type accountCreateCmd struct {
	Name string `required:"" help:"The reseller's name, as its team sees it."`
}

func (c *accountCreateCmd) Help() string {
	return `Creates a reseller account with an empty audit log and prints its id alone
on stdout. Next, add its owner with 'reseller user add --role owner' and give
it license pools with 'reseller pool create'.`
}

func (c *accountCreateCmd) Run(e *env) error {
	db, err := e.open(false)
	if err != nil {
		return err
	}
	defer db.Close()
	a, err := db.CreateAccount(e.ctx, c.Name)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, a.ID)
	fmt.Fprintf(e.stderr, "Created account %d %q.\n", a.ID, a.Name)
	return nil
}

type accountListCmd struct{}

func (c *accountListCmd) Run(e *env) error {
	db, err := e.open(false)
	if err != nil {
		return err
	}
	defer db.Close()
	as, err := db.ListAccounts(e.ctx)
	if err != nil {
		return err
	}
	if len(as) == 0 {
		fmt.Fprintln(e.stderr, "No accounts yet; create one with 'reseller account create --name NAME'.")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tCREATED")
	for _, a := range as {
		fmt.Fprintf(tw, "%d\t%s\t%s\n", a.ID, a.Name, a.CreatedAt.Format(time.RFC3339))
	}
	return tw.Flush()
}
