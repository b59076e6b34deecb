// Package jsonio is the JSON string codec of records and bundles, shared by
// the verifier in internal/auditlog and the writer in
// internal/auditlog/bundle. Bundles are too large for encoding/json's
// reflection (a million entries must verify in seconds), so strings are
// written and read here by hand; encoding/json stays the reference: the
// tests hold this code to it, and readers fall back to it for what this
// code does not handle.
package jsonio

import (
	"encoding/base64"
	"encoding/binary"
	"math/bits"
	"slices"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/tlog"
)

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string, escaped exactly as encoding/json
// escapes with HTML escaping off (invalid UTF-8 becomes \ufffd, which never
// happens to a canonical record).
func AppendString(dst, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if n := PlainLen(s[i:], true); n > 0 {
			i += n
			continue
		}
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, s[start:i]...)
				dst = append(dst, `\ufffd`...)
				start = i + size
			} else if r == '\u2028' || r == '\u2029' {
				dst = append(dst, s[start:i]...)
				dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
				start = i + size
			}
			i += size
			continue
		}
		if c >= 0x20 && c != '"' && c != '\\' {
			i++
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendRecord is AppendString for canonical record bytes, which hold no
// control characters, U+2028, U+2029 or invalid UTF-8: only quotes and
// backslashes need escaping, and they are frequent enough (every key of the
// record has two quotes) that a plain byte loop beats skipping runs.
func AppendRecord(dst, rec []byte) []byte {
	dst = slices.Grow(dst, len(rec)+len(rec)/4+2)
	dst = append(dst, '"')
	for _, c := range rec {
		if c == '"' || c == '\\' {
			dst = append(dst, '\\')
		}
		dst = append(dst, c)
	}
	return append(dst, '"')
}

// AppendHash appends h as a JSON string of its standard base64.
func AppendHash(dst []byte, h tlog.Hash) []byte {
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, h[:])
	return append(dst, '"')
}

// Word-at-a-time scanning: strings in bundles and records are long runs of
// plain bytes between escapes, and testing eight bytes at once roughly halves
// the cost of the two hottest loops of verification.
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// eqMask flags the bytes of w equal to c (the lowest flag is exact; flags
// above it may be false, which the callers never look at).
func eqMask(w uint64, c byte) uint64 {
	x := w ^ (lsb * uint64(c))
	return (x - lsb) &^ x & msb
}

// PlainLen is the length of the run at the start of b without a quote or a
// backslash, and, if strict, without control characters and non-ASCII bytes.
func PlainLen(b []byte, strict bool) int {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		m := eqMask(w, '"') | eqMask(w, '\\')
		if strict {
			m |= (w-lsb*0x20)&^w&msb | w&msb
		}
		if m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c == '"' || c == '\\' || strict && (c < 0x20 || c >= utf8.RuneSelf) {
			break
		}
	}
	return i
}

// Unquote decodes the JSON string at the start of b, appending its value to
// dst, and returns the bytes after it. ok is false for what it does not
// decode as encoding/json would (lone surrogates, bad escapes); callers then
// fall back to encoding/json. It copies other bytes as they are, raw control
// characters and invalid UTF-8 included: what it returns is a record, which
// is then checked for canonical form, and no canonical record holds those.
func Unquote(dst, b []byte) (val, rest []byte, ok bool) {
	if len(b) == 0 || b[0] != '"' {
		return dst, b, false
	}
	i := 1
	for {
		j := i + PlainLen(b[i:], false)
		dst = append(dst, b[i:j]...)
		if j >= len(b) {
			return dst, b, false
		}
		if b[j] == '"' {
			return dst, b[j+1:], true
		}
		if j+1 >= len(b) {
			return dst, b, false
		}
		switch c := b[j+1]; c {
		case '"', '\\', '/':
			dst = append(dst, c)
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, ok := Hex4(b[j+2:])
			if !ok {
				return dst, b, false
			}
			if utf16.IsSurrogate(r) {
				var r2 rune
				if len(b) >= j+12 && b[j+6] == '\\' && b[j+7] == 'u' {
					r2, _ = Hex4(b[j+8:])
				}
				if r = utf16.DecodeRune(r, r2); r == utf8.RuneError {
					return dst, b, false
				}
				j += 6
			}
			dst = utf8.AppendRune(dst, r)
			j += 4
		default:
			return dst, b, false
		}
		i = j + 2
	}
}

// Hex4 decodes the four hex digits at the start of b, either case.
func Hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
