package auditlog

import (
	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog/internal/jsonio"
)

// Hooks into the fast paths, so tests can hold them to the slow, obviously
// right ones (encoding/json).

// FastRecordOK reports whether the canonical-form walk alone accepts b.
func FastRecordOK(b []byte) bool {
	s := scanner{b: b, ok: true}
	s.record()
	return s.ok && s.i == len(b)
}

// AppendJSONString is the string encoder of records and bundles.
var AppendJSONString = jsonio.AppendString

// Unquote is the bundle reader's string decoder.
func Unquote(b []byte) ([]byte, bool) {
	v, rest, ok := jsonio.Unquote(nil, b)
	return v, ok && len(rest) == 0
}

// AppendRecordString is the bundle writer's encoder for record bytes.
var AppendRecordString = jsonio.AppendRecord

// EncodeLegacyRecord is EncodeRecord as it was before it refused invalid
// UTF-8, in version 1: encoding/json writes an invalid byte as \ufffd,
// which no canonical record holds. Tests make records of older versions
// with it.
func EncodeLegacyRecord(e *reseller.Entry) ([]byte, error) { return encodeRecord(e, 1) }

// EncodeUnchecked writes e as a record of version v with none of
// EncodeRecordVersion's checks: version 1 records holding what only
// version 2 has, say, which must be refused.
var EncodeUnchecked = encodeRecord
