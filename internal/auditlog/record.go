package auditlog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog/internal/jsonio"
)

// RecordVersion is the version of the record encoding written today.
// Version 2 added the details of team actions (role, from_role, to_role,
// token_id, token_name) and the target type "user"; records of version 1
// stay valid as they are, and are checked as version 1 records.
const RecordVersion = 2

// TimeFormat is how a record writes its time: UTC, always six fractional digits.
const TimeFormat = "2006-01-02T15:04:05.000000Z"

// record is the canonical form of an entry. Field order is the encoding's
// order; empty optional fields are left out.
type record struct {
	V       int                 `json:"v"`
	Account int64               `json:"account"`
	Seq     int64               `json:"seq"`
	Time    string              `json:"time"`
	Action  reseller.Action     `json:"action"`
	Target  reseller.Target     `json:"target"`
	Details reseller.Details    `json:"details"`
	Actor   reseller.EntryActor `json:"actor"`
}

// EncodeRecord returns the canonical record bytes of e, as a record of
// version RecordVersion: one line of compact JSON without a trailing
// newline, with HTML characters not escaped. It is what the store writes.
//
// It refuses (EINVALID, naming the field) an entry it cannot encode
// canonically: a string that is not valid UTF-8, which encoding/json would
// silently turn into U+FFFD written as the non-canonical escape \ufffd, or a
// time outside the years 0000-9999 of the record's time format. So whatever
// EncodeRecord returns, DecodeCanonical and CheckCanonical accept.
func EncodeRecord(e *reseller.Entry) ([]byte, error) {
	return EncodeRecordVersion(e, RecordVersion)
}

// EncodeRecordVersion is EncodeRecord for a record of version v, 1 or 2:
// the canonical bytes of e as that version writes them. The store writes
// RecordVersion only; DecodeCanonical re-encodes a record in its own
// version, and tests and tools make version 1 records with it.
//
// Version 1 has neither the details of team actions nor user targets, so
// for v = 1 it refuses (EINVALID, naming the field) an entry with a
// non-empty details.role, from_role, to_role, token_id or token_name, or
// with the target type "user".
func EncodeRecordVersion(e *reseller.Entry, v int) ([]byte, error) {
	if err := checkVersion(e, v); err != nil {
		return nil, err
	}
	if err := checkEncodable(e); err != nil {
		return nil, err
	}
	return encodeRecord(e, v)
}

// checkVersion refuses what a record of version v cannot hold.
func checkVersion(e *reseller.Entry, v int) error {
	switch v {
	case 2:
		return nil
	case 1:
	default:
		return reseller.Errorf(reseller.EINVALID, "Audit record version %d is unknown.", v)
	}
	if e.Target.Type == reseller.TargetUser {
		return reseller.Errorf(reseller.EINVALID, "Audit record version 1 has no target type %q.", reseller.TargetUser)
	}
	d := &e.Details
	for _, f := range [...]struct {
		name string
		set  bool
	}{
		{"details.role", d.Role != ""},
		{"details.from_role", d.FromRole != ""},
		{"details.to_role", d.ToRole != ""},
		{"details.token_id", d.TokenID != 0},
		{"details.token_name", d.TokenName != ""},
	} {
		if f.set {
			return reseller.Errorf(reseller.EINVALID, "Audit record version 1 has no field %s.", f.name)
		}
	}
	return nil
}

// encodeRecord is EncodeRecordVersion without its checks: what versions
// before them wrote, which for invalid UTF-8 is not canonical (see
// CheckLegacy).
func encodeRecord(e *reseller.Entry, v int) ([]byte, error) {
	r := record{
		V:       v,
		Account: e.AccountID,
		Seq:     e.Seq,
		Time:    e.Time.UTC().Format(TimeFormat),
		Action:  e.Action,
		Target:  e.Target,
		Details: e.Details,
		Actor:   e.Actor,
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// ValidText reports whether s can be part of a record: whether it is valid
// UTF-8. Every other string has a canonical encoding. Callers that take text
// from outside (headers, form fields) check or clean it with this before it
// reaches an entry, so that EncodeRecord never has to refuse.
func ValidText(s string) bool { return utf8.ValidString(s) }

// checkEncodable refuses what EncodeRecord cannot encode canonically.
func checkEncodable(e *reseller.Entry) error {
	for _, f := range [...]struct{ name, v string }{
		{"action", string(e.Action)},
		{"target.type", e.Target.Type},
		{"target.email", e.Target.Email},
		{"details.name", e.Details.Name},
		{"details.pool_name", e.Details.PoolName},
		{"details.product", e.Details.Product},
		{"details.label", e.Details.Label},
		{"details.reason", e.Details.Reason},
		{"details.role", string(e.Details.Role)},
		{"details.from_role", string(e.Details.FromRole)},
		{"details.to_role", string(e.Details.ToRole)},
		{"details.token_name", e.Details.TokenName},
		{"actor.email", e.Actor.Email},
		{"actor.role", string(e.Actor.Role)},
		{"actor.via", e.Actor.Via},
		{"actor.ip", e.Actor.IP},
		{"actor.user_agent", e.Actor.UserAgent},
		{"actor.request_id", e.Actor.RequestID},
	} {
		if !ValidText(f.v) {
			return reseller.Errorf(reseller.EINVALID, "Audit record field %s is not valid UTF-8.", f.name)
		}
	}
	if y := e.Time.UTC().Year(); y < 0 || y > 9999 {
		return reseller.Errorf(reseller.EINVALID, "Audit record time %s is outside the years 0000 to 9999.", e.Time.UTC().Format(time.RFC3339Nano))
	}
	return nil
}

// DecodeCanonical parses record bytes into an entry (with Record set to b). It
// refuses unknown versions, unknown fields, fields or values its version
// does not have (details of team actions or a user target in version 1),
// and bytes that are not exactly the canonical encoding of what they say,
// so one record has one byte form.
//
// It is the definition of canonical record bytes: it decodes with
// encoding/json, encodes again with EncodeRecordVersion in the record's own
// version and compares. That costs a
// decode and an encode per record; CheckCanonical accepts exactly the same
// bytes without allocating, and ParseCanonical reads them in one walk. Use
// DecodeCanonical where one record is checked and clarity matters more than
// speed, and as the reference the fast paths are tested against.
func DecodeCanonical(b []byte) (*reseller.Entry, error) {
	var r record
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	if r.V != 1 && r.V != 2 {
		return nil, fmt.Errorf("record: unknown version %d", r.V)
	}
	t, err := time.Parse(TimeFormat, r.Time)
	if err != nil {
		return nil, fmt.Errorf("record: time: %w", err)
	}
	e := &reseller.Entry{
		AccountID: r.Account, Seq: r.Seq, Time: t, Action: r.Action,
		Target: r.Target, Details: r.Details, Actor: r.Actor, Record: b,
	}
	canon, err := EncodeRecordVersion(e, r.V)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(canon, b) {
		return nil, fmt.Errorf("record: seq %d is not in canonical form", r.Seq)
	}
	return e, nil
}

// AppendDetails appends d as a record writes it, the value of "details":
// compact JSON, fields in order, empty ones left out, strings escaped as
// encoding/json escapes them with HTML escaping off ({} when d is empty).
// A version 1 record's details, which have no fields of version 2, are
// written as that version wrote them.
// The CSV export writes details this way without encoding/json's reflection.
func AppendDetails(dst []byte, d *reseller.Details) []byte {
	dst = append(dst, '{')
	n := len(dst)
	str := func(key, v string) {
		if v != "" {
			if len(dst) > n {
				dst = append(dst, ',')
			}
			dst = append(dst, key...)
			dst = jsonio.AppendString(dst, []byte(v))
		}
	}
	num := func(key string, v int64) {
		if v != 0 {
			if len(dst) > n {
				dst = append(dst, ',')
			}
			dst = append(dst, key...)
			dst = strconv.AppendInt(dst, v, 10)
		}
	}
	str(`"name":`, d.Name)
	num(`"pool_id":`, d.PoolID)
	str(`"pool_name":`, d.PoolName)
	str(`"product":`, d.Product)
	num(`"license_id":`, d.LicenseID)
	str(`"label":`, d.Label)
	str(`"reason":`, d.Reason)
	str(`"role":`, string(d.Role))
	str(`"from_role":`, string(d.FromRole))
	str(`"to_role":`, string(d.ToRole))
	num(`"token_id":`, d.TokenID)
	str(`"token_name":`, d.TokenName)
	return append(dst, '}')
}
