package auditlog_test

import (
	"fmt"
	"testing"

	"github.com/resellerconsole/reseller/internal/auditlog"
	"github.com/resellerconsole/reseller/internal/auditlog/memlog"
	"golang.org/x/mod/sumdb/tlog"
	"pgregory.net/rapid"
)

// A tree extended from a stored prefix has the root of the whole log, for
// every split between prefix and appended records.
func TestTreeBuilderMatchesTreeHash(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		total := rapid.Int64Range(0, 300).Draw(t, "total")
		from := rapid.Int64Range(0, total).Draw(t, "from")
		var m memlog.Log
		for i := range total {
			if err := m.Append(fmt.Appendf(nil, "record %d", i+1)); err != nil {
				t.Fatal(err)
			}
		}
		prefix, err := tlog.TreeHash(from, &m)
		if err != nil {
			t.Fatal(err)
		}
		b, err := auditlog.NewTreeBuilder(from, &m, &prefix)
		if err != nil {
			t.Fatal(err)
		}
		for seq := from + 1; seq <= total; seq++ {
			b.Append(m.Record(seq))
		}
		want, _ := m.Root()
		if b.Size() != total || b.Root() != want {
			t.Fatalf("size %d root %v, want %d %v", b.Size(), b.Root(), total, want)
		}
	})
}

// A prefix whose stored hashes do not fold to the trusted root is refused.
func TestTreeBuilderRefusesAnotherPrefix(t *testing.T) {
	var m memlog.Log
	for i := range 13 {
		m.Append(fmt.Appendf(nil, "record %d", i+1))
	}
	other, _ := tlog.TreeHash(12, &m)
	if _, err := auditlog.NewTreeBuilder(13, &m, &other); err == nil {
		t.Fatal("a prefix with another root was accepted")
	}
}
