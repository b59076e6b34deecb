package auditlog_test

import (
	"math/bits"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// TestStoredHashFormulas holds the closed forms that
// docs/audit-log-format.md section 4 gives to tlog's stored-hash layout.
func TestStoredHashFormulas(t *testing.T) {
	for n := int64(0); n < 1<<14; n++ {
		closed := 2*n - int64(bits.OnesCount64(uint64(n)))
		if got := tlog.StoredHashCount(n); got != closed {
			t.Fatalf("StoredHashCount(%d) = %d, the document says 2n - popcount(n) = %d", n, got, closed)
		}
		if got := tlog.StoredHashIndex(0, n); got != closed {
			t.Fatalf("StoredHashIndex(0, %d) = %d, the document says %d", n, got, closed)
		}
		sum := int64(0)
		for k := n; k > 0; k /= 2 {
			sum += k
		}
		if sum != closed {
			t.Fatalf("n + n/2 + n/4 + ... = %d for n = %d, not %d", sum, n, closed)
		}
	}
}
