package auditlog

// Hooks into the fast paths, so tests can hold them to the slow, obviously
// right ones (encoding/json).

// FastRecordOK reports whether the canonical-form walk alone accepts b.
func FastRecordOK(b []byte) bool {
	s := scanner{b: b, ok: true}
	s.record()
	return s.ok && s.i == len(b)
}

// AppendJSONString is the bundle writer's string encoder.
var AppendJSONString = appendString

// Unquote is the bundle reader's string decoder.
func Unquote(b []byte) ([]byte, bool) {
	v, rest, ok := unquote(nil, b)
	return v, ok && len(rest) == 0
}

// AppendRecordString is the bundle writer's encoder for record bytes.
var AppendRecordString = appendRecord

// ParseRecordFast is ParseRecord's fast path alone: ok is false where
// ParseRecord falls back to encoding/json.
var ParseRecordFast = parseRecordFast

// EncodeLegacyRecord is EncodeRecord as it was before it refused invalid
// UTF-8: encoding/json writes an invalid byte as \ufffd, which no canonical
// record holds. Tests make records of older versions with it.
var EncodeLegacyRecord = encodeRecord
