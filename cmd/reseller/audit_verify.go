package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog"
)

type auditVerifyCmd struct {
	Bundle string `arg:"" placeholder:"BUNDLE" help:"The bundle file ('-' for stdin)."`
	Key    string `placeholder:"VKEY" help:"The verifier key to trust (NAME+HASH+KEY, as 'reseller key show' prints), or a file holding it. Without it the key inside the bundle is used, which proves only that the bundle is consistent with itself."`
	Since  string `placeholder:"FILE" help:"An older signed checkpoint you kept (the note text, or the JSON of GET /api/v1/audit/checkpoint): prove it is a prefix of the bundle's log."`

	WitnessKey []string `name:"witness-key" sep:"none" placeholder:"VKEY" help:"Verifier key of a witness (as 'reseller witness key' prints), or a file holding it, whose cosignature the bundle's checkpoint must carry; repeatable."`
	// SinceKey is how an auditor links checkpoints across a key
	// replacement (docs/audit-log-format.md section 10).
	SinceKey string `name:"since-key" placeholder:"VKEY" help:"The verifier key (or a file holding it) that signed the --since checkpoint, if the log's key was replaced since then (default: --key)."`
}

func (c *auditVerifyCmd) Help() string {
	return `Checks a verification bundle offline, with no database and no trust in the
server: the checkpoint's signature, every entry's record bytes and inclusion
proof, and with --since that the log you saw before only grew since.

With --witness-key, the checkpoint must also carry a valid cosignature from
each witness named: a witness that cosigned it keeps its own record of the
log, so a history rewritten in the server's database cannot pass.

On success prints one line (entries, tree size, key, whether the bundle is
the complete log, witnesses) and exits 0; otherwise exits 1 naming the entry,
or the witness, and what failed. Records an older version wrote in a
non-canonical form (invalid UTF-8 as \ufffd) still verify against the tree;
a second line names their seqs. The format is specified in
docs/audit-log-format.md.

Examples:
  reseller audit verify q3.bundle.json --key "$(cat verifier.key)"
  reseller audit verify q4.bundle.json --key verifier.key --since q3-checkpoint.txt
  reseller audit verify q4.bundle.json --key verifier.key --witness-key witness.key
  reseller audit verify q4.bundle.json --key new.key --since q3-checkpoint.txt --since-key old.key`
}

func (c *auditVerifyCmd) Run(e *env) error {
	opts := auditlog.VerifyOptions{}
	if c.Key != "" {
		key, err := readKeyArg(c.Key)
		if err != nil {
			return err
		}
		opts.VerifierKey = key
	}
	if c.Since != "" {
		b, err := os.ReadFile(c.Since)
		if err != nil {
			return fmt.Errorf("--since: %w", err)
		}
		opts.Since = checkpointNote(b)
	}
	for _, k := range c.WitnessKey {
		key, err := readWitnessKeyArg(k)
		if err != nil {
			return err
		}
		opts.WitnessKeys = append(opts.WitnessKeys, key)
	}
	if c.SinceKey != "" {
		if c.Since == "" {
			return reseller.Errorf(reseller.EINVALID, "--since-key goes with --since.")
		}
		key, err := readKeyArg(c.SinceKey)
		if err != nil {
			return fmt.Errorf("--since-key: %w", err)
		}
		opts.SinceVerifierKey = key
	}
	in := e.stdin
	if c.Bundle != "-" {
		f, err := os.Open(c.Bundle)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	sum, err := auditlog.VerifyBundle(in, opts)
	if err != nil {
		return fmt.Errorf("%s: verification FAILED: %w", c.Bundle, err)
	}
	line := fmt.Sprintf("OK: %d entries verified against the checkpoint of %s at size %d, signed by %s", sum.Entries, sum.Origin, sum.Size, sum.KeyName+"+"+sum.KeyHash)
	if sum.Complete {
		line += "; complete: the bundle holds every entry of the log"
	} else {
		line += "; a selection: it proves the entries it holds, not that none is left out"
	}
	if sum.SinceSize > 0 {
		line += fmt.Sprintf("; the log of size %d is a prefix of it", sum.SinceSize)
	}
	if len(sum.Cosignatures) > 0 {
		var ws []string
		for _, cs := range sum.Cosignatures {
			ws = append(ws, fmt.Sprintf("%s at %s", cs.Witness, cs.Time.Format(time.RFC3339)))
		}
		line += "; cosigned by " + strings.Join(ws, ", ")
	}
	if sum.KeyFromBundle {
		line += " (key taken from the bundle: pass --key to trust a key you hold)"
	}
	fmt.Fprintln(e.stdout, line)
	if sum.NonCanonicalCount > 0 {
		fmt.Fprintf(e.stdout, "WARNING: %d records are not in canonical form (seqs %s): an older version wrote invalid UTF-8 in them as \\ufffd; they are in the log exactly as shown, as their inclusion proofs prove\n",
			sum.NonCanonicalCount, seqList(sum.NonCanonical, sum.NonCanonicalCount))
	}
	return nil
}

// seqList writes seqs for people, saying when the list was cut short.
func seqList(seqs []int64, total int) string {
	var b strings.Builder
	for i, s := range seqs {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprint(&b, s)
	}
	if total > len(seqs) {
		fmt.Fprintf(&b, " and %d more", total-len(seqs))
	}
	return b.String()
}

// readKeyArg takes a verifier key, or the path of a file holding one.
func readKeyArg(arg string) (string, error) {
	if _, err := auditlog.ParseVerifierKey(arg); err == nil {
		return arg, nil
	}
	b, err := os.ReadFile(arg)
	if err != nil {
		return "", fmt.Errorf("--key: %q is neither a verifier key nor a readable file: %w", arg, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// readWitnessKeyArg takes a witness's verifier key, or the path of a file
// holding one.
func readWitnessKeyArg(arg string) (string, error) {
	if _, err := auditlog.NewCosignatureVerifier(arg); err == nil {
		return arg, nil
	}
	b, err := os.ReadFile(arg)
	if err != nil {
		_, kerr := auditlog.NewCosignatureVerifier(arg)
		return "", fmt.Errorf("--witness-key: %q is neither a witness verifier key (%v) nor a readable file: %w", arg, kerr, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// checkpointNote takes a signed checkpoint as note text, or as the JSON the
// API's checkpoint endpoint returns.
func checkpointNote(b []byte) []byte {
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		var cp struct {
			Checkpoint string `json:"checkpoint"`
		}
		if json.Unmarshal(t, &cp) == nil && cp.Checkpoint != "" {
			return []byte(cp.Checkpoint)
		}
	}
	return b
}
