package bundle_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/resellerconsole/reseller/internal/auditlog"
	"github.com/resellerconsole/reseller/internal/auditlog/bundle"
)

func TestWriteBundleRefuses(t *testing.T) {
	signer, vkey := testKey(t, 1)
	s := story(t, 42)
	other := story(t, 43)
	base := func() bundle.Input {
		seqs := []int64{1, 2, 3}
		return bundle.Input{Checkpoint: s.Signed(t, signer), VerifierKey: vkey, Origin: auditlog.Origin(signer.Name(), 42),
			Size: 12, Hashes: s.Log, Seqs: seqs, Records: s.Log.Select(seqs)}
	}
	cases := map[string]struct {
		edit    func(*bundle.Input)
		errPart string
	}{
		"ErrSeqsNotAscending":       {func(in *bundle.Input) { in.Seqs = []int64{2, 1} }, "must ascend"},
		"ErrSeqBeyondSize":          {func(in *bundle.Input) { in.Seqs = []int64{13} }, "Seq 13 is not in the checkpoint's log of 12 entries."},
		"ErrSizeMismatch":           {func(in *bundle.Input) { in.Size = 11 }, "has size 12, not 11"},
		"ErrSinceTooLarge":          {func(in *bundle.Input) { in.Since = 13 }, "Since must be between 0 and the log's size 12, not 13."},
		"ErrWrongKey":               {func(in *bundle.Input) { _, in.VerifierKey = testKey(t, 2) }, "not signed by key"},
		"ErrWrongOrigin":            {func(in *bundle.Input) { in.Origin = auditlog.Origin(signer.Name(), 43) }, "not \"reseller-console/account/43\""},
		"ErrHashesDisagree":         {func(in *bundle.Input) { in.Hashes = other.Log }, "the stored hashes give root"},
		"ErrRecordsOutOfStep":       {func(in *bundle.Input) { in.Records = s.Log.Select([]int64{1, 3}) }, "records stream seq 3 where seq 2 was due"},
		"ErrRecordsShort":           {func(in *bundle.Input) { in.Records = s.Log.Select([]int64{1, 2}) }, "ended before seq 3"},
		"ErrRecordOfAnotherAccount": {func(in *bundle.Input) { in.Records = other.Log.Select(in.Seqs) }, "the record is account 43"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			in := base()
			tc.edit(&in)
			err := bundle.Write(&bytes.Buffer{}, in)
			if err == nil || !strings.Contains(err.Error(), tc.errPart) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.errPart)
			}
		})
	}
}
