package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/resellerconsole/reseller"
	"golang.org/x/term"
)

type userCmd struct {
	Add         userAddCmd         `cmd:"" help:"Add a user to an account and print the user's id."`
	SetPassword userSetPasswordCmd `cmd:"" name:"set-password" help:"Set a user's password, read from stdin."`
	List        userListCmd        `cmd:"" help:"List an account's users."`
}

type userAddCmd struct {
	Account int64  `required:"" placeholder:"ID" help:"Id of the account (see 'reseller account list')."`
	Email   string `required:"" placeholder:"EMAIL" help:"The user's email; it is their sign-in name and unique across accounts."`
	Role    string `required:"" enum:"owner,admin,operator,auditor" placeholder:"ROLE" help:"One of owner, admin, operator, auditor. An account has exactly one owner."`
}

func (c *userAddCmd) Help() string {
	return `Adds a user to an account and prints the new user's id alone on stdout.

Roles: an owner and admins manage clients, licenses, the team and API tokens
(only the owner can hand over ownership); operators manage clients and
licenses but cannot delete clients; auditors only read. Every role can read
and export the audit log. The first owner of an account is added here; later
the owner transfers ownership from the console.

The user cannot sign in until a password is set with 'reseller user
set-password', or can use the API with a token from 'reseller token create'.`
}

// Validate refuses a malformed command line (exit 2).
func (c *userAddCmd) Validate() error {
	if c.Email == "" {
		return nil // kong reports the missing flag
	}
	return usage(reseller.NormalizeEmail(c.Email))
}

func (c *userAddCmd) Run(e *env) error {
	db, err := e.open(false)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := db.AddUser(asOperator(e.ctx, c.Account), c.Email, reseller.Role(c.Role))
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, u.ID)
	fmt.Fprintf(e.stderr, "Added %s as %s of account %d.\n", u.Email, u.Role, u.AccountID)
	return nil
}

type userSetPasswordCmd struct {
	Email string `required:"" placeholder:"EMAIL" help:"The user's email."`
}

func (c *userSetPasswordCmd) Help() string {
	return `Reads the new password from the first line of stdin, so that it never
appears in the command line, the shell history or the process list:

  printf '%s\n' "$PASSWORD" | reseller user set-password --email alice@example.com

At a terminal it asks for the password without echoing it. Passwords have at
least 10 characters; they are stored as argon2id hashes.`
}

// Validate refuses a malformed command line (exit 2).
func (c *userSetPasswordCmd) Validate() error {
	if c.Email == "" {
		return nil // kong reports the missing flag
	}
	return usage(reseller.NormalizeEmail(c.Email))
}

func (c *userSetPasswordCmd) Run(e *env) error {
	db, err := e.open(false)
	if err != nil {
		return err
	}
	defer db.Close()
	// Look the user up first, so that a typo in the email fails before
	// anyone types a password.
	u, err := db.FindUserByEmail(e.ctx, c.Email)
	if err != nil {
		return err
	}
	pw, err := readPassword(e, "New password for "+u.Email+": ")
	if err != nil {
		return err
	}
	if err := db.SetPassword(asOperator(e.ctx, u.AccountID), u.ID, pw); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "Password set for %s.\n", u.Email)
	return nil
}

// readPassword reads one line: from a terminal without echo, otherwise the
// first line of stdin, without its line ending.
func readPassword(e *env, prompt string) (string, error) {
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(e.stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		return string(b), nil
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", reseller.Errorf(reseller.EINVALID, "No password on stdin; pipe it in, for example: printf '%%s\\n' \"$PASSWORD\" | reseller user set-password --email EMAIL")
	}
	return line, nil
}

type userListCmd struct {
	Account int64 `required:"" placeholder:"ID" help:"Id of the account."`
}

func (c *userListCmd) Run(e *env) error {
	db, err := e.open(false)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.FindAccountByID(e.ctx, c.Account); err != nil {
		return err
	}
	us, err := db.ListUsers(asOperator(e.ctx, c.Account))
	if err != nil {
		return err
	}
	if len(us) == 0 {
		fmt.Fprintf(e.stderr, "Account %d has no users yet; add its owner with 'reseller user add --account %d --email EMAIL --role owner'.\n", c.Account, c.Account)
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tEMAIL\tROLE\tPASSWORD")
	for _, u := range us {
		pw := "not set"
		if u.HasPassword {
			pw = "set"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", u.ID, u.Email, u.Role, pw)
	}
	return tw.Flush()
}
