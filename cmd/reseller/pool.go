package main

import (
	"fmt"
	"text/tabwriter"
)

type poolCmd struct {
	Create poolCreateCmd `cmd:"" help:"Create a license pool in an account and print its id."`
	Resize poolResizeCmd `cmd:"" help:"Change a pool's capacity."`
	List   poolListCmd   `cmd:"" help:"List an account's pools with capacity, used and free slots."`
}

type poolCreateCmd struct {
	Account  int64  `required:"" placeholder:"ID" help:"Id of the account (see 'reseller account list')."`
	Name     string `required:"" help:"Pool name shown to the reseller, e.g. \"Business 100\"."`
	Capacity int    `required:"" placeholder:"N" help:"Number of license slots the reseller bought."`
	Product  string `placeholder:"P" help:"Product the slots are for (default \"security-plugin\")."`
}

func (c *poolCreateCmd) Help() string {
	return `Creates a pool of license slots that the account's team allocates to its
clients, and prints the new pool's id alone on stdout. Active licenses never
exceed the capacity; change it later with 'reseller pool resize'.`
}

// Validate refuses a malformed command line (exit 2) before touching the database.
func (c *poolCreateCmd) Validate() error { return checkCapacity(c.Capacity) }

func (c *poolCreateCmd) Run(e *env) error {
	db, err := e.open(false)
	if err != nil {
		return err
	}
	defer db.Close()
	p, err := db.CreatePool(e.ctx, c.Account, c.Name, c.Product, c.Capacity)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, p.ID)
	fmt.Fprintf(e.stderr, "Created pool %d %q (%s, %d slots) in account %d.\n", p.ID, p.Name, p.Product, p.Capacity, p.AccountID)
	return nil
}

type poolResizeCmd struct {
	Pool     int64 `required:"" placeholder:"ID" help:"Id of the pool (see 'reseller pool list')."`
	Capacity int   `required:"" placeholder:"N" help:"New number of slots; never below the slots in use."`
}

// Validate refuses a malformed command line (exit 2).
func (c *poolResizeCmd) Validate() error { return checkCapacity(c.Capacity) }

func checkCapacity(n int) error {
	if n < 0 {
		return fmt.Errorf("--capacity must be 0 or more, not %d", n)
	}
	return nil
}

func (c *poolResizeCmd) Run(e *env) error {
	db, err := e.open(false)
	if err != nil {
		return err
	}
	defer db.Close()
	p, err := db.ResizePool(e.ctx, c.Pool, c.Capacity)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "Pool %d %q now has %d slots: %d used, %d free.\n", p.ID, p.Name, p.Capacity, p.Used, p.Free)
	return nil
}

type poolListCmd struct {
	Account int64 `required:"" placeholder:"ID" help:"Id of the account."`
}

func (c *poolListCmd) Run(e *env) error {
	db, err := e.open(false)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.FindAccountByID(e.ctx, c.Account); err != nil {
		return err
	}
	ps, err := db.ListAccountPools(e.ctx, c.Account)
	if err != nil {
		return err
	}
	if len(ps) == 0 {
		fmt.Fprintf(e.stderr, "Account %d has no pools yet; create one with 'reseller pool create'.\n", c.Account)
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tPRODUCT\tCAPACITY\tUSED\tFREE")
	for _, p := range ps {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d\t%d\n", p.ID, p.Name, p.Product, p.Capacity, p.Used, p.Free)
	}
	return tw.Flush()
}
