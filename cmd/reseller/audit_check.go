package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/sqldb"
)

type auditCheckCmd struct {
	Account    int64    `placeholder:"ID" help:"Check only this account (default: every account)."`
	OldKey     []string `sep:"none" placeholder:"VKEY" help:"Verifier key (or a file holding it) of a signing key used before the current one, whose checkpoints still count (repeatable)."`
	Checkpoint []string `sep:"none" placeholder:"FILE" help:"A signed checkpoint kept outside the database (the note text, or the JSON of GET /api/v1/audit/checkpoint): the log it names must have its root at its size (repeatable)."`
}

func (c *auditCheckCmd) Help() string {
	return `Checks the audit logs stored in the database, every account (or --account):

  - every record is canonical and hashes to its stored leaf, every stored
    Merkle hash is right, and sequence numbers have no gaps;
  - the columns that lists and exports filter on (action, client, target,
    actor, time) say what each entry's record says;
  - every stored checkpoint's signed note verifies, with the current key or
    an --old-key, says the size and root of its row, and the tree has that
    root at that size; as must each checkpoint given with --checkpoint;
  - replaying the log from empty rebuilds exactly the clients, licenses and
    pool usage in the database.

Prints "account N: ok, ENTRIES entries, root ROOT" on stdout for each account
that checks out, and on stderr one line per problem ("account N: FAILED: ...",
at most 20 per account), going on to the next account, and a summary. Exits 1
if anything failed.

Checkpoints signed with an earlier signing key count only with that key's
verifier key given as --old-key.

Examples:
  reseller audit check
  reseller audit check --account 7 --checkpoint q3-checkpoint.txt
  reseller audit check --old-key old-verifier.key`
}

func (c *auditCheckCmd) Run(e *env) error {
	db, err := e.openSigned(false)
	if err != nil {
		return err
	}
	defer db.Close()
	for _, k := range c.OldKey {
		key, err := readKeyArg(k)
		if err != nil {
			return err
		}
		db.TrustOldKeys(key)
	}
	ids := []int64{c.Account}
	if c.Account == 0 {
		as, err := db.ListAccounts(e.ctx)
		if err != nil {
			return err
		}
		ids = ids[:0]
		for _, a := range as {
			ids = append(ids, a.ID)
		}
	} else if _, err := db.FindAccountByID(e.ctx, c.Account); err != nil {
		return err
	}

	badFiles := 0
	kept := map[int64][]sqldb.KeptCheckpoint{}
	for _, file := range c.Checkpoint {
		b, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("--checkpoint: %w", err)
		}
		id, cp, err := db.OpenCheckpoint(checkpointNote(b))
		if err == nil && c.Account != 0 && id != c.Account {
			return reseller.Errorf(reseller.EINVALID, "Checkpoint %s is of account %d's log, not of account %d's (--account).", file, id, c.Account)
		}
		if err == nil {
			if _, err = db.FindAccountByID(e.ctx, id); reseller.ErrorCode(err) == reseller.ENOTFOUND {
				err = fmt.Errorf("it is of the log of account %d, which this database does not have", id)
			}
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "checkpoint %s: FAILED: %s\n", file, errorText(err))
			badFiles++
			continue
		}
		kept[id] = append(kept[id], sqldb.KeptCheckpoint{Name: file, Checkpoint: cp})
	}

	failed, problems, checkpoints := 0, 0, 0
	for _, id := range ids {
		r, err := db.CheckAccountReport(e.ctx, id, kept[id]...)
		if err != nil {
			return fmt.Errorf("account %d: %w", id, err)
		}
		checkpoints += r.Checkpoints
		if r.Problems.Len() == 0 {
			fmt.Fprintf(e.stdout, "account %d: ok, %d entries, root %s\n", id, r.Size, r.Root)
			continue
		}
		failed++
		problems += r.Problems.Len()
		for _, p := range r.Problems.List {
			fmt.Fprintf(e.stderr, "account %d: FAILED: %v\n", id, p)
		}
		if r.Problems.More > 0 {
			fmt.Fprintf(e.stderr, "account %d: FAILED: and %d more problems\n", id, r.Problems.More)
		}
	}
	if failed > 0 || badFiles > 0 {
		msg := fmt.Sprintf("audit check FAILED: %d of %d accounts with problems (%d in all)", failed, len(ids), problems)
		if badFiles > 0 {
			msg += fmt.Sprintf("; %d of %d checkpoint files unusable", badFiles, len(c.Checkpoint))
		}
		return errors.New(msg)
	}
	fmt.Fprintf(e.stderr, "audit check: %d accounts ok, %d checkpoints match their logs", len(ids), checkpoints)
	if len(c.Checkpoint) > 0 {
		fmt.Fprintf(e.stderr, " (%d of them kept outside the database)", len(c.Checkpoint))
	}
	fmt.Fprintln(e.stderr)
	return nil
}
