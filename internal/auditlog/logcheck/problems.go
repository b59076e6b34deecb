package logcheck

import (
	"fmt"
	"strings"

	"github.com/resellerconsole/reseller/internal/auditlog"
	"golang.org/x/mod/sumdb/tlog"
)

// Problems collects what a check finds wrong, in the order found. A check
// goes on after a problem, so that one run shows everything an operator has
// to look at, not only the first thing; Max keeps a log that is wrong
// everywhere from flooding the report.
type Problems struct {
	Max  int     // how many to keep; 0 keeps all
	List []error // the problems kept
	More int     // problems found beyond Max
}

// Add records a problem.
func (p *Problems) Add(err error) {
	if p.Max > 0 && len(p.List) >= p.Max {
		p.More++
		return
	}
	p.List = append(p.List, err)
}

// Len is the number of problems found, kept or not.
func (p *Problems) Len() int { return len(p.List) + p.More }

// Err returns nil when nothing was found, or else an *Error listing the
// problems.
func (p *Problems) Err() error {
	if p.Len() == 0 {
		return nil
	}
	return &Error{Problems: append([]error(nil), p.List...), More: p.More}
}

// Error is the error of a check that found problems.
type Error struct {
	Problems []error // in the order found
	More     int     // found but not listed
}

// Error lists the problems, separated by semicolons.
func (e *Error) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.Error())
	}
	if e.More > 0 {
		fmt.Fprintf(&b, "; and %d more problems", e.More)
	}
	return b.String()
}

// Unwrap returns the problems, for errors.Is and errors.As.
func (e *Error) Unwrap() []error { return e.Problems }

// CheckpointMismatchError is a checkpoint that the log does not match: the
// log is smaller than the checkpoint, or its records hash to another root
// at the checkpoint's size. Either way the log is not the one that was
// signed: entries were removed from its end, or rewritten.
type CheckpointMismatchError struct {
	Checkpoint auditlog.Checkpoint
	LogSize    int64     // the log's size, when it is smaller than the checkpoint
	Root       tlog.Hash // otherwise the root of the log's first Checkpoint.Size records
}

func (e *CheckpointMismatchError) Error() string {
	if e.LogSize < e.Checkpoint.Size {
		return fmt.Sprintf("the checkpoint covers %d entries but the log has only %d: entries were removed from its end", e.Checkpoint.Size, e.LogSize)
	}
	return fmt.Sprintf("the log's first %d entries have root %v but the checkpoint says %v: the log was rewritten", e.Checkpoint.Size, e.Root, e.Checkpoint.Root)
}
