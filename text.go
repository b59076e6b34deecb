package reseller

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// Text from people is cleaned once, here, before it is stored and before it
// reaches an audit record: names, labels and reasons must be valid UTF-8
// without control characters, bidirectional overrides or zero-width
// characters (which would make one text look like another, or a log line
// read differently from what it says), and emails have one form each, so
// that lookalikes cannot sit side by side.

// MaxSearchLen is the longest search text accepted.
const MaxSearchLen = 254

// MaxLocalPartLen is the longest part of an email before the @ (RFC 5321).
const MaxLocalPartLen = 64

// CleanText trims s and checks it for field (named in errors): at most max
// bytes, valid UTF-8, no control, bidirectional-control or zero-width
// characters. Returns EINVALID naming the problem.
func CleanText(field, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", Errorf(EINVALID, "%s is not valid UTF-8 text.", field)
	}
	if len(s) > max {
		return "", Errorf(EINVALID, "%s is longer than %d characters.", field, max)
	}
	if i, r, ok := badRune(s); ok {
		return "", Errorf(EINVALID, "%s has a character that is not allowed (%U at byte %d): control characters, direction overrides and invisible characters are refused.", field, r, i)
	}
	return s, nil
}

// badRune finds the first character CleanText refuses.
func badRune(s string) (int, rune, bool) {
	for i, r := range s {
		if invisible(r) {
			return i, r, true
		}
	}
	return 0, 0, false
}

// invisible reports whether r is a control character (C0, DEL, C1), a
// bidirectional control, or a zero-width or other format character.
func invisible(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r < 0xa0:
		return true
	case unicode.Is(unicode.Cf, r): // format: bidi controls, zero-width space/joiners, BOM, soft hyphen...
		return true
	case r == 0x2028, r == 0x2029: // line and paragraph separators
		return true
	}
	return false
}

// CleanSearch checks search text: at most MaxSearchLen bytes, valid UTF-8.
func CleanSearch(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) > MaxSearchLen {
		return "", Errorf(EINVALID, "%s is longer than %d characters; search for a part of it.", field, MaxSearchLen)
	}
	if !utf8.ValidString(s) {
		return "", Errorf(EINVALID, "%s is not valid UTF-8 text.", field)
	}
	return s, nil
}

// NormalizeEmail validates an email address and returns its one stored
// form: trimmed, NFC-normalised, lower-cased, with an ASCII local part of at
// most 64 characters and the domain in its ASCII (punycode) form. Returns
// EINVALID naming the problem.
func NormalizeEmail(email string) (string, error) {
	e := strings.TrimSpace(email)
	switch {
	case e == "":
		return "", Errorf(EINVALID, "Email is required.")
	case len(e) > MaxEmailLen:
		return "", Errorf(EINVALID, "Email is longer than %d characters.", MaxEmailLen)
	case !utf8.ValidString(e):
		return "", Errorf(EINVALID, "Email is not valid UTF-8 text.")
	}
	e = norm.NFC.String(e)
	at := strings.LastIndexByte(e, '@')
	if at <= 0 || at == len(e)-1 {
		return "", Errorf(EINVALID, "Email %q is not a valid address.", e)
	}
	local, domain := e[:at], e[at+1:]
	if len(local) > MaxLocalPartLen {
		return "", Errorf(EINVALID, "Email %q is not a valid address: the part before the @ is longer than %d characters.", e, MaxLocalPartLen)
	}
	for _, r := range local {
		if r >= utf8.RuneSelf || invisible(r) {
			return "", Errorf(EINVALID, "Email %q is not a valid address: the part before the @ may only use ASCII letters, digits and punctuation.", e)
		}
	}
	ascii, err := idna.Lookup.ToASCII(domain)
	if err != nil || !strings.Contains(ascii, ".") {
		return "", Errorf(EINVALID, "Email %q is not a valid address: %q is not a valid domain.", e, domain)
	}
	e = local + "@" + strings.ToLower(ascii)
	if len(e) > MaxEmailLen {
		return "", Errorf(EINVALID, "Email is longer than %d characters.", MaxEmailLen)
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || a.Name != "" {
		return "", Errorf(EINVALID, "Email %q is not a valid address.", email)
	}
	return strings.ToLower(e), nil
}
