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
const RecordVersion = 1

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

// EncodeRecord returns the canonical record bytes of e: one line of compact
// JSON without a trailing newline, with HTML characters not escaped.
//
// It refuses (EINVALID, naming the field) an entry it cannot encode
// canonically: a string that is not valid UTF-8, which encoding/json would
// silently turn into U+FFFD written as the non-canonical escape \ufffd, or a
// time outside the years 0000-9999 of the record's time format. So whatever
// EncodeRecord returns, DecodeCanonical and CheckCanonical accept.
func EncodeRecord(e *reseller.Entry) ([]byte, error) {
	if err := checkEncodable(e); err != nil {
		return nil, err
	}
	return encodeRecord(e)
}

// encodeRecord is EncodeRecord without its checks: what versions before
// them wrote, which for invalid UTF-8 is not canonical (see
// CheckLegacy).
func encodeRecord(e *reseller.Entry) ([]byte, error) {
	r := record{
		V:       RecordVersion,
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
// refuses unknown versions, unknown fields, and bytes that are not exactly the
// canonical encoding of what they say, so one record has one byte form.
//
// It is the definition of canonical record bytes: it decodes with
// encoding/json, encodes again with EncodeRecord and compares. That costs a
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
	if r.V != RecordVersion {
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
	canon, err := EncodeRecord(e)
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
	return append(dst, '}')
}
