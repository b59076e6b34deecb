package reseller

import (
	"errors"
	"fmt"
)

// Error codes. They are stable: the API returns them in problem+json "code".
const (
	EINVALID           = "invalid"
	EUNAUTHORIZED      = "unauthorized"
	EFORBIDDEN         = "forbidden"
	ENOTFOUND          = "not_found"
	ECONFLICT          = "conflict"
	EINVALIDTRANSITION = "invalid_transition"
	EPOOLEXHAUSTED     = "pool_exhausted"
	ECLIENTSUSPENDED   = "client_suspended"
	EEMAILTAKEN        = "email_taken"
	ETOOLARGE          = "too_large"
	ERATELIMITED       = "rate_limited"
	// ELOGINCONSISTENT: the account's audit log failed the check made before
	// signing it (it is not an extension of what was signed before), so
	// signing and changes are refused until an operator has looked at it.
	ELOGINCONSISTENT = "log_inconsistent"
	// EUNAVAILABLE: the database cannot store changes (full disk,
	// read-only): a 503 with Retry-After; nothing was changed.
	EUNAVAILABLE = "store_unavailable"
	EINTERNAL    = "internal"
)

// Error is the one error type of the domain. Code says what kind of failure it
// is; Message is safe to show to the user and names the problem.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrNoSigner is returned by the LogService when the server has no key to
// sign checkpoints with. It is an internal error (EINTERNAL): a caller can do
// nothing about it, but the console says so rather than fail.
var ErrNoSigner = errors.New("no signing key configured")

// ErrorCode returns the code of err if it is (or wraps) an *Error, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err. Internal errors get a
// generic message so that no detail of the system leaks.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// IsConflict reports whether the code is one of the 409 family.
func IsConflict(code string) bool {
	switch code {
	case ECONFLICT, EINVALIDTRANSITION, EPOOLEXHAUSTED, ECLIENTSUSPENDED, EEMAILTAKEN:
		return true
	}
	return false
}
