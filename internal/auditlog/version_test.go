package auditlog_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog"
	"pgregory.net/rapid"
)

// v1Record is a record of version 1 as encoding/json writes it, written
// here from docs/audit-log-format.md and not from the package's types: the
// fields of version 1 only, in their order.
type v1Record struct {
	V       int    `json:"v"`
	Account int64  `json:"account"`
	Seq     int64  `json:"seq"`
	Time    string `json:"time"`
	Action  string `json:"action"`
	Target  struct {
		Type  string `json:"type"`
		ID    int64  `json:"id"`
		Email string `json:"email"`
	} `json:"target"`
	Details struct {
		Name      string `json:"name,omitempty"`
		PoolID    int64  `json:"pool_id,omitempty"`
		PoolName  string `json:"pool_name,omitempty"`
		Product   string `json:"product,omitempty"`
		LicenseID int64  `json:"license_id,omitempty"`
		Label     string `json:"label,omitempty"`
		Reason    string `json:"reason,omitempty"`
	} `json:"details"`
	Actor struct {
		ID        int64  `json:"id"`
		Email     string `json:"email"`
		Role      string `json:"role"`
		Via       string `json:"via"`
		TokenID   int64  `json:"token_id,omitempty"`
		IP        string `json:"ip,omitempty"`
		UserAgent string `json:"user_agent,omitempty"`
		RequestID string `json:"request_id,omitempty"`
	} `json:"actor"`
}

func encodeV1(t *rapid.T, e *reseller.Entry) []byte {
	r := v1Record{V: 1, Account: e.AccountID, Seq: e.Seq, Time: e.Time.UTC().Format(auditlog.TimeFormat), Action: string(e.Action)}
	r.Target.Type, r.Target.ID, r.Target.Email = e.Target.Type, e.Target.ID, e.Target.Email
	d := &r.Details
	d.Name, d.PoolID, d.PoolName, d.Product = e.Details.Name, e.Details.PoolID, e.Details.PoolName, e.Details.Product
	d.LicenseID, d.Label, d.Reason = e.Details.LicenseID, e.Details.Label, e.Details.Reason
	a := &r.Actor
	a.ID, a.Email, a.Role, a.Via = e.Actor.ID, e.Actor.Email, string(e.Actor.Role), e.Actor.Via
	a.TokenID, a.IP, a.UserAgent, a.RequestID = e.Actor.TokenID, e.Actor.IP, e.Actor.UserAgent, e.Actor.RequestID
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// withoutV2 clears what only version 2 records hold.
func withoutV2(e *reseller.Entry) *reseller.Entry {
	c := *e
	c.Details.Role, c.Details.FromRole, c.Details.ToRole, c.Details.TokenID, c.Details.TokenName = "", "", "", 0, ""
	if c.Target.Type == reseller.TargetUser {
		c.Target.Type = reseller.TargetClient
	}
	return &c
}

// TestVersion1Unchanged: an entry that version 1 can hold is encoded as
// version 1 exactly as version 1 always encoded it, and as version 2 with
// the same bytes but for the version; both are canonical and read back the
// same.
func TestVersion1Unchanged(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in := withoutV2(anyEntry().Draw(t, "entry"))
		if y := in.Time.UTC().Year(); !validStrings(in) || y < 0 || y > 9999 {
			return
		}
		v1, err := auditlog.EncodeRecordVersion(in, 1)
		if err != nil {
			t.Fatal(err)
		}
		if want := encodeV1(t, in); !bytes.Equal(v1, want) {
			t.Fatalf("version 1 encodes %+v as\n%s\nversion 1 always wrote\n%s", in, v1, want)
		}
		v2, err := auditlog.EncodeRecord(in)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(v2, append([]byte(`{"v":2`), v1[len(`{"v":1`):]...)) {
			t.Fatalf("version 2 writes %s, version 1 %s", v2, v1)
		}
		for _, rec := range [][]byte{v1, v2} {
			e1, err := auditlog.DecodeCanonical(rec)
			if err != nil {
				t.Fatalf("DecodeCanonical(%s): %v", rec, err)
			}
			e2, ok := auditlog.ParseCanonical(rec)
			if _, _, err := auditlog.CheckCanonical(rec); err != nil || !ok {
				t.Fatalf("CheckCanonical(%s): %v, ParseCanonical %v", rec, err, ok)
			}
			if d := cmp.Diff(e1, e2); d != "" {
				t.Fatalf("DecodeCanonical and ParseCanonical differ on %s:\n%s", rec, d)
			}
		}
	})
}

// TestVersion1RefusesVersion2: a version 1 record holding a detail of team
// actions or a user target is no record: every reader refuses it, the
// encoder names what version 1 lacks, and with "v":2 the same record is
// canonical.
func TestVersion1RefusesVersion2(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in := anyEntry().Draw(t, "entry")
		if rapid.Bool().Draw(t, "user target") {
			in.Target.Type = reseller.TargetUser
		}
		if !hasV2(in) {
			in.Details.TokenID = rapid.Int64Range(1, 1<<40).Draw(t, "token")
		}
		rec, err := auditlog.EncodeUnchecked(in, 1)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := auditlog.CheckCanonical(rec); err == nil {
			t.Fatalf("CheckCanonical accepts %s", rec)
		}
		if _, err := auditlog.DecodeCanonical(rec); err == nil {
			t.Fatalf("DecodeCanonical accepts %s", rec)
		}
		if _, ok := auditlog.ParseCanonical(rec); ok || auditlog.FastRecordOK(rec) {
			t.Fatalf("the fast path accepts %s", rec)
		}
		if _, _, ok := auditlog.CheckLegacy(rec); ok {
			t.Fatalf("CheckLegacy accepts %s", rec)
		}
		_, err = auditlog.EncodeRecordVersion(in, 1)
		if err == nil || reseller.ErrorCode(err) != reseller.EINVALID || !strings.Contains(err.Error(), "version 1 has no") {
			t.Fatalf("EncodeRecordVersion(1) = %v", err)
		}
		if y := in.Time.UTC().Year(); validStrings(in) && y >= 0 && y <= 9999 {
			v2 := append([]byte(`{"v":2`), rec[len(`{"v":1`):]...)
			if _, _, err := auditlog.CheckCanonical(v2); err != nil {
				t.Fatalf("CheckCanonical(%s): %v", v2, err)
			}
		}
	})
}

// TestEncodeRecordVersionNamesTheField: version 1 names the field it has not.
func TestEncodeRecordVersionNamesTheField(t *testing.T) {
	base := teamStory(t, 42).Entries[0]
	for name, edit := range map[string]func(e *reseller.Entry){
		"details.role":       func(e *reseller.Entry) { e.Target.Type = reseller.TargetClient },
		"details.from_role":  func(e *reseller.Entry) { *e = *withoutV2(e); e.Details.FromRole = "admin" },
		"details.to_role":    func(e *reseller.Entry) { *e = *withoutV2(e); e.Details.ToRole = "owner" },
		"details.token_id":   func(e *reseller.Entry) { *e = *withoutV2(e); e.Details.TokenID = 4 },
		"details.token_name": func(e *reseller.Entry) { *e = *withoutV2(e); e.Details.TokenName = "ci" },
		`target type "user"`: func(e *reseller.Entry) { e.Details.Role = "" },
	} {
		t.Run(name, func(t *testing.T) {
			e := *base
			edit(&e)
			_, err := auditlog.EncodeRecordVersion(&e, 1)
			if err == nil || !strings.Contains(err.Error(), name) || reseller.ErrorCode(err) != reseller.EINVALID {
				t.Fatalf("err = %v, want EINVALID naming %s", err, name)
			}
			if _, err := auditlog.EncodeRecordVersion(&e, 2); err != nil {
				t.Fatalf("version 2: %v", err)
			}
		})
	}
	for _, v := range []int{0, 3, -1} {
		if _, err := auditlog.EncodeRecordVersion(base, v); err == nil || reseller.ErrorCode(err) != reseller.EINVALID {
			t.Errorf("version %d: err = %v", v, err)
		}
	}
	e := *base
	e.Details.TokenName = "ci\xff"
	if _, err := auditlog.EncodeRecord(&e); err == nil || !strings.Contains(err.Error(), "details.token_name") {
		t.Errorf("invalid UTF-8 in token_name: err = %v", err)
	}
}

// TestLegacyVersions: a legacy record is one that the canonical form of
// U+FFFD makes canonical, in the version it says; a version 1 record with
// what only version 2 has stays invalid.
func TestLegacyVersions(t *testing.T) {
	e := *teamStory(t, 42).Entries[0]
	e.Actor.UserAgent = "Mozilla\xc3"
	for _, tc := range []struct {
		v      int
		edit   func(e *reseller.Entry)
		legacy bool
	}{
		{1, func(e *reseller.Entry) { *e = *withoutV2(e) }, true},
		{2, func(e *reseller.Entry) {}, true},
		{1, func(e *reseller.Entry) {}, false},
	} {
		e := e
		tc.edit(&e)
		rec, err := auditlog.EncodeUnchecked(&e, tc.v)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, ok := auditlog.CheckLegacy(rec); ok != tc.legacy {
			t.Errorf("CheckLegacy(%s) = %v", rec, ok)
		}
	}
}
