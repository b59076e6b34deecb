package auditlog

import (
	"bytes"
	"math"
	"time"
	"unicode/utf8"

	"github.com/resellerconsole/reseller"
	"github.com/resellerconsole/reseller/internal/auditlog/internal/jsonio"
)

// CheckCanonical reports whether b is canonical record bytes (exactly what
// DecodeCanonical accepts) and returns the account and seq the record names.
// It is what verifiers call on untrusted bytes: verifying a million-entry
// bundle cannot afford a JSON decode and re-encode per record, so it walks
// the canonical layout once, without allocating, and falls back to
// DecodeCanonical only to explain a rejection (or, should the fast walk ever
// be stricter than the encoder, to accept what DecodeCanonical accepts).
func CheckCanonical(b []byte) (account, seq int64, err error) {
	s := scanner{b: b, ok: true}
	account, seq = s.record()
	if s.ok && s.i == len(b) {
		return account, seq, nil
	}
	e, err := DecodeCanonical(b)
	if err != nil {
		return 0, 0, err
	}
	return e.AccountID, e.Seq, nil
}

// legacyEscape is how encoding/json writes an invalid UTF-8 byte, which
// EncodeRecord did before it refused invalid UTF-8.
const legacyEscape = `\ufffd`

// CheckLegacy reports whether b, which CheckCanonical refuses, is a legacy
// record, the record of an older version: canonical except that some of its strings
// hold the escape \ufffd, which is how EncodeRecord wrote invalid UTF-8
// before it refused it (the canonical form of U+FFFD is the character
// itself). It returns the account and seq the record names.
//
// Such a record stays in its log as it is, since its bytes are hashed into
// the tree: exports carry it, and verifiers check it at the Merkle level and
// report it instead of failing. Any other departure from the canonical form
// is not forgiven: in particular, a version 1 record holding what only
// version 2 has is not a legacy record.
func CheckLegacy(b []byte) (account, seq int64, ok bool) {
	if !bytes.Contains(b, []byte(legacyEscape)) {
		return 0, 0, false
	}
	fixed := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		switch {
		case b[i] != '\\' || i+1 == len(b):
			fixed = append(fixed, b[i])
			i++
		case bytes.HasPrefix(b[i:], []byte(legacyEscape)):
			fixed = append(fixed, "\uFFFD"...)
			i += len(legacyEscape)
		default: // another escape, \\ included: keep both bytes
			fixed = append(fixed, b[i], b[i+1])
			i += 2
		}
	}
	if len(fixed) == len(b) {
		return 0, 0, false // every \ufffd was preceded by an escaped backslash
	}
	account, seq, err := CheckCanonical(fixed)
	return account, seq, err == nil
}

// scanner walks canonical record bytes. Any deviation clears ok; the walk
// then carries on harmlessly, since the caller looks at ok only at the end.
type scanner struct {
	b  []byte
	i  int
	ok bool
	d  *decoded // where ParseCanonical collects the values; nil to check only
	// esc is set when str meets an escape.
	esc bool
}

func (s *scanner) fail() { s.ok = false; s.i = len(s.b) }

// lit consumes the literal l.
func (s *scanner) lit(l string) {
	if len(s.b)-s.i < len(l) || string(s.b[s.i:s.i+len(l)]) != l {
		s.fail()
		return
	}
	s.i += len(l)
}

// has consumes l if it comes next.
func (s *scanner) has(l string) bool {
	if s.ok && len(s.b)-s.i >= len(l) && string(s.b[s.i:s.i+len(l)]) == l {
		s.i += len(l)
		return true
	}
	return false
}

// record walks the layout EncodeRecord writes, in the version the record
// says: fixed field order, empty optional fields left out; version 1 has
// neither the details of version 2 nor the target type "user". When s.d is
// set it also collects the values.
func (s *scanner) record() (account, seq int64) {
	v := 2
	if !s.has(`{"v":2,"account":`) {
		s.lit(`{"v":1,"account":`)
		v = 1
	}
	account = s.int()
	s.lit(`,"seq":`)
	seq = s.int()
	s.lit(`,"time":`)
	s.time()
	s.lit(`,"action":`)
	s.strField(sAction)
	s.lit(`,"target":{"type":`)
	if n := s.strField(sTargetType); v == 1 && n == len(targetUser) && string(s.b[s.i-1-n:s.i-1]) == targetUser {
		s.fail()
	}
	s.lit(`,"id":`)
	s.intField(iTargetID)
	s.lit(`,"email":`)
	s.strField(sTargetEmail)
	s.lit(`},"details":{`)
	details := detailFields
	if v == 1 {
		details = detailFields[:detailFieldsV1]
	}
	s.optionals(details, true)
	s.lit(`},"actor":{"id":`)
	s.intField(iActorID)
	s.lit(`,"email":`)
	s.strField(sActorEmail)
	s.lit(`,"role":`)
	s.strField(sRole)
	s.lit(`,"via":`)
	s.strField(sVia)
	s.optionals(actorOptional, false)
	s.lit(`}}`)
	return account, seq
}

// targetUser is the target type that version 1 does not have, canonical
// as it is (it needs no escape).
const targetUser = reseller.TargetUser

type optField struct {
	key   string
	isInt bool
	field int // index of the value in decoded.ints or decoded.strs
}

// The omitempty fields of reseller.Details and reseller.EntryActor, in
// declaration order, which is encoding order. The details of version 1 are
// the first detailFieldsV1; version 2 added the rest.
var (
	detailFields = []optField{
		{`"name":`, false, sName}, {`"pool_id":`, true, iPoolID}, {`"pool_name":`, false, sPoolName},
		{`"product":`, false, sProduct}, {`"license_id":`, true, iLicenseID}, {`"label":`, false, sLabel},
		{`"reason":`, false, sReason},
		{`"role":`, false, sDetailRole}, {`"from_role":`, false, sFromRole}, {`"to_role":`, false, sToRole},
		{`"token_id":`, true, iDetailTokenID}, {`"token_name":`, false, sTokenName},
	}
	actorOptional = []optField{
		{`"token_id":`, true, iTokenID}, {`"ip":`, false, sIP}, {`"user_agent":`, false, sUserAgent},
		{`"request_id":`, false, sRequestID},
	}
)

// detailFieldsV1 is how many of detailFields version 1 has.
const detailFieldsV1 = 7

// optionals consumes the omitempty fields of fs that are present, in
// their order; first says whether no field of the object came before them.
// Present means non-empty, since the encoder leaves empty ones out. Each
// field present is one of those after the last one consumed; the walk
// finds which by its key, and stops at anything else (the end of the
// object, or bytes that the caller's next literal then refuses).
func (s *scanner) optionals(fs []optField, first bool) {
	for len(fs) > 0 && s.ok {
		comma := 0
		if !first {
			if s.i >= len(s.b) || s.b[s.i] != ',' {
				return
			}
			s.i++
			comma = 1
		}
		j := 0
		for j < len(fs) && !s.has(fs[j].key) {
			j++
		}
		if j == len(fs) {
			s.i -= comma // not a field of fs: give the comma back
			return
		}
		f := fs[j]
		fs, first = fs[j+1:], false
		if f.isInt {
			if s.intField(f.field) == 0 {
				s.fail()
			}
		} else if s.strField(f.field) == 0 {
			s.fail()
		}
	}
}

// intField consumes an integer, and keeps it as field f when decoding.
func (s *scanner) intField(f int) int64 {
	v := s.int()
	if s.d != nil {
		s.d.ints[f] = v
	}
	return v
}

// strField consumes a string, and notes where its value is as field f when
// decoding.
func (s *scanner) strField(f int) int {
	s.esc = false
	n := s.str()
	if n > 0 && s.d != nil {
		s.d.strs[f] = strSpan{start: s.i - 1 - n, end: s.i - 1, esc: s.esc}
		s.d.size += n
	}
	return n
}

// int consumes an integer as strconv.FormatInt writes an int64.
func (s *scanner) int() int64 {
	b, i := s.b, s.i
	neg := i < len(b) && b[i] == '-'
	if neg {
		i++
	}
	start := i
	var u uint64
	for i < len(b) && b[i] >= '0' && b[i] <= '9' && i-start < 20 {
		u = u*10 + uint64(b[i]-'0')
		i++
	}
	n := i - start
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	if n == 0 || n > 19 || (b[start] == '0' && (n > 1 || neg)) || u > limit {
		s.fail()
		return 0
	}
	s.i = i
	if neg {
		return int64(-u)
	}
	return int64(u)
}

// time consumes a quoted time in TimeFormat that time.Parse accepts.
func (s *scanner) time() {
	const n = len(`"2006-01-02T15:04:05.000000Z"`)
	if len(s.b)-s.i < n {
		s.fail()
		return
	}
	t := s.b[s.i : s.i+n : s.i+n]
	if t[0] != '"' || t[5] != '-' || t[8] != '-' || t[11] != 'T' || t[14] != ':' || t[17] != ':' ||
		t[20] != '.' || t[27] != 'Z' || t[28] != '"' {
		s.fail()
		return
	}
	digits := true
	num := func(a, b int) int {
		v := 0
		for _, c := range t[a:b] {
			c -= '0' // wraps around below '0'
			digits = digits && c <= 9
			v = v*10 + int(c)
		}
		return v
	}
	y, mo, d, h, mi, sec, us := num(1, 5), num(6, 8), num(9, 11), num(12, 14), num(15, 17), num(18, 20), num(21, 27)
	if !digits || mo < 1 || mo > 12 || d < 1 || d > daysIn(mo, y) || h > 23 || mi > 59 || sec > 59 {
		s.fail()
		return
	}
	if s.d != nil {
		s.d.time = time.Unix(unixDays(y, mo, d)*86400+int64(h*3600+mi*60+sec), int64(us)*1000).UTC()
	}
	s.i += n
}

// unixDays is the number of days from 1970-01-01 to the date y-mo-d of the
// proleptic Gregorian calendar, for years 0 to 9999 (Howard Hinnant's
// days_from_civil, shifted by one 400-year era to stay non-negative).
func unixDays(y, mo, d int) int64 {
	if mo <= 2 {
		y--
	}
	y += 400
	era := y / 400
	yoe := y - era*400
	doy := (153*((mo+9)%12)+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era-1)*146097 + int64(doe) - 719468
}

// daysIn is the length of month mo of year y in the proleptic Gregorian
// calendar, as time.Parse checks days.
func daysIn(mo, y int) int {
	switch mo {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// str consumes a JSON string written as encoding/json writes it with HTML
// escaping off, and returns how many bytes its contents take (0 if empty).
// Only these forms are canonical: raw UTF-8 except U+2028 and U+2029;
// \" \\ \b \f \n \r \t; \u00XX (lowercase hex) for the other controls; and
// \u2028, \u2029.
func (s *scanner) str() int {
	b, i := s.b, s.i
	if i >= len(b) || b[i] != '"' {
		s.fail()
		return 0
	}
	i++
	start := i
	for i < len(b) {
		i += jsonio.PlainLen(b[i:], true)
		if i == len(b) {
			break
		}
		c := b[i]
		switch {
		case c == '"':
			s.i = i + 1
			return i - start
		case c == '\\':
			if i+1 >= len(b) {
				s.fail()
				return 0
			}
			s.esc = true
			switch b[i+1] {
			case '"', '\\', 'b', 'f', 'n', 'r', 't':
				i += 2
				continue
			case 'u':
				if !canonicalU(b[i+2 : min(i+6, len(b))]) {
					s.fail()
					return 0
				}
				i += 6
				continue
			}
			s.fail()
			return 0
		case c < 0x20:
			s.fail()
			return 0
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
				s.fail()
				return 0
			}
			i += size
		}
	}
	s.fail()
	return 0
}

// canonicalU reports whether the four hex digits h are an escape the
// encoder writes: a control character without a short form, or U+2028/9.
func canonicalU(h []byte) bool {
	if len(h) != 4 {
		return false
	}
	v := 0
	for _, c := range h {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | int(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | int(c-'a'+10)
		default:
			return false
		}
	}
	switch v {
	case '\b', '\f', '\n', '\r', '\t':
		return false
	case 0x2028, 0x2029:
		return true
	}
	return v < 0x20
}
