package auditlog

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog/internal/jsonio"
)

// ParseTrusted reads the entry that record bytes hold, with Record set to b
// and AccountID to the record's account, for listing and exporting stored
// entries: bytes the store checked when it wrote them. Its result is exactly
// what encoding/json reads from b into the record's fields, but it is an
// order of magnitude faster: canonical bytes are read in one walk by the
// scanner of CheckCanonical, with all the strings copied into one
// allocation. It does not verify (DecodeCanonical does): any other bytes, an
// unknown version included, are read by encoding/json, and only what
// encoding/json refuses is an error. Never use it to decide whether bytes
// are a valid record.
func ParseTrusted(b []byte) (*reseller.Entry, error) {
	if e, ok := ParseCanonical(b); ok {
		return e, nil
	}
	return parseJSON(b)
}

// ParseCanonical reads canonical record bytes in the one walk that
// CheckCanonical makes, and returns their entry (Record set to b), for a
// caller that must both check and read each record (the stored-log check).
// ok is false for any other bytes: CheckCanonical then says what is wrong
// with them, and ParseTrusted still reads them. What it accepts,
// DecodeCanonical accepts.
func ParseCanonical(b []byte) (e *reseller.Entry, ok bool) {
	var d decoded
	s := scanner{b: b, ok: true, d: &d}
	account, seq := s.record()
	if !s.ok || s.i != len(b) {
		return nil, false
	}
	return d.entry(account, seq, b), true
}

// parseJSON is ParseTrusted by encoding/json: the reference, and the
// fallback for bytes that are not canonical.
func parseJSON(b []byte) (*reseller.Entry, error) {
	var r struct {
		Account int64 `json:"account"`
		reseller.Entry
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	e := r.Entry
	e.AccountID, e.Record = r.Account, b
	return &e, nil
}

// Indexes of a record's values in decoded: ints and strings.
const (
	iTargetID = iota
	iPoolID
	iLicenseID
	iActorID
	iTokenID
	iDetailTokenID
	nInts
)

const (
	sAction = iota
	sTargetType
	sTargetEmail
	sName
	sPoolName
	sProduct
	sLabel
	sReason
	sActorEmail
	sRole
	sVia
	sIP
	sUserAgent
	sRequestID
	sDetailRole
	sFromRole
	sToRole
	sTokenName
	nStrings
)

// decoded collects the values of a record as the scanner walks it: the
// integers, the time, and where each string's contents are in the record.
// Strings are copied at the end, one after the other into one allocation,
// of which each value is a substring.
type decoded struct {
	time time.Time
	ints [nInts]int64
	strs [nStrings]strSpan // an omitted field stays empty
	size int               // of all string contents, escaped
}

// strSpan is where a string's contents are in the record, and whether they
// hold escapes.
type strSpan struct {
	start, end int
	esc        bool
}

// entry returns the entry of the values collected from rec.
func (d *decoded) entry(account, seq int64, rec []byte) *reseller.Entry {
	var sb strings.Builder
	sb.Grow(d.size) // unescaping only shortens
	var ends [nStrings]int
	for f, sp := range d.strs {
		if !sp.esc {
			sb.Write(rec[sp.start:sp.end])
		} else {
			var tmp [256]byte
			v, _, _ := jsonio.Unquote(tmp[:0], rec[sp.start-1:sp.end+1]) // canonical escapes are all unquote's
			sb.Write(v)
		}
		ends[f] = sb.Len()
	}
	all := sb.String()
	str := func(f int) string {
		if f == 0 {
			return all[:ends[0]]
		}
		return all[ends[f-1]:ends[f]]
	}
	return &reseller.Entry{
		AccountID: account,
		Seq:       seq,
		Time:      d.time,
		Action:    reseller.Action(str(sAction)),
		Target:    reseller.Target{Type: str(sTargetType), ID: d.ints[iTargetID], Email: str(sTargetEmail)},
		Details: reseller.Details{
			Name: str(sName), PoolID: d.ints[iPoolID], PoolName: str(sPoolName), Product: str(sProduct),
			LicenseID: d.ints[iLicenseID], Label: str(sLabel), Reason: str(sReason),
			Role: reseller.Role(str(sDetailRole)), FromRole: reseller.Role(str(sFromRole)), ToRole: reseller.Role(str(sToRole)),
			TokenID: d.ints[iDetailTokenID], TokenName: str(sTokenName),
		},
		Actor: reseller.EntryActor{
			ID: d.ints[iActorID], Email: str(sActorEmail), Role: reseller.Role(str(sRole)), Via: str(sVia),
			TokenID: d.ints[iTokenID], IP: str(sIP), UserAgent: str(sUserAgent), RequestID: str(sRequestID),
		},
		Record: rec,
	}
}
