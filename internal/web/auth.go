package web

import (
	"math"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/resellerconsole/reseller"
	"golang.org/x/time/rate"
)

// maxUserAgentLen bounds the user agent copied into audit entries.
const maxUserAgentLen = 256

// authenticate finds the actor of an API request from its bearer token, rate
// limits it, and returns the request with the actor in its context. The
// store checks roles; here we only establish who is asking.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*http.Request, error) {
	ctx := r.Context()
	info := infoFrom(ctx)
	ip := s.clientIP(r)
	var actor *reseller.Actor
	secret, ok := bearerToken(r)
	var err error = reseller.Errorf(reseller.EUNAUTHORIZED, "Send an API token in the Authorization header, as: Bearer <token>.")
	if ok {
		actor, err = s.store.Authenticate(ctx, secret)
	}
	// A request without a valid token counts against its IP address, so
	// that guessing tokens is as limited as using one.
	key := "ip " + ip
	if err == nil {
		key = "token " + strconv.FormatInt(actor.TokenID, 10)
	}
	if wait := s.limits.take(key, time.Now()); wait > 0 {
		secs := int(math.Ceil(wait.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		return nil, reseller.Errorf(reseller.ERATELIMITED, "Too many requests; retry in %d s.", secs)
	}
	if err != nil {
		if reseller.ErrorCode(err) == reseller.EUNAUTHORIZED {
			w.Header().Set("WWW-Authenticate", `Bearer realm="reseller"`)
		}
		return nil, err
	}
	actor.IP, actor.UserAgent, actor.RequestID = ip, headerText(r.UserAgent(), maxUserAgentLen), info.id
	info.actorID = actor.UserID
	return r.WithContext(reseller.NewContext(ctx, actor)), nil
}

// bearerToken returns the token of an "Authorization: Bearer <token>" header.
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

// clientIP returns the address of the client. Behind a proxy (TrustProxy)
// it is the last address of X-Forwarded-For: the one our proxy appended,
// the only one a client cannot forge.
func (s *Server) clientIP(r *http.Request) string {
	if s.trustProxy {
		if vs := r.Header.Values("X-Forwarded-For"); len(vs) > 0 {
			parts := strings.Split(vs[len(vs)-1], ",")
			if a, err := netip.ParseAddr(strings.TrimSpace(parts[len(parts)-1])); err == nil {
				return a.Unmap().String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// headerText makes a header value fit to be recorded in an audit entry:
// valid UTF-8 (a header may carry any bytes), without control characters,
// and at most n bytes long. Each bad byte or control becomes U+FFFD.
func headerText(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || 0x7f <= r && r < 0xa0 {
			return '\uFFFD'
		}
		return r
	}, s)
	return truncate(s, n)
}

// checkFormText refuses a posted form whose names or values are not valid
// UTF-8: they would reach the audit log's record bytes, which must stay
// canonical.
func checkFormText(form url.Values) error {
	for k, vs := range form {
		if !utf8.ValidString(k) {
			return reseller.Errorf(reseller.EINVALID, "A form field name is not valid UTF-8 text.")
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return reseller.Errorf(reseller.EINVALID, "The form field %q is not valid UTF-8 text.", k)
			}
		}
	}
	return nil
}

// truncate cuts s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// limiters holds one token bucket per key (a token id or an IP address).
// Buckets idle long enough to be full again are dropped, so the map stays
// as small as the set of recent callers.
type limiters struct {
	limit rate.Limit
	burst int

	mu        sync.Mutex
	m         map[string]*limiterEntry
	lastSweep time.Time
}

type limiterEntry struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiters(perSecond float64, burst int) *limiters {
	l := &limiters{limit: rate.Limit(perSecond), burst: burst, m: map[string]*limiterEntry{}}
	if perSecond < 0 {
		l.limit = rate.Inf
	}
	return l
}

// take spends one request of key's bucket at now, and returns 0 if it may
// proceed or how long until it could.
func (l *limiters) take(key string, now time.Time) time.Duration {
	if l.limit == rate.Inf {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	// A bucket refills completely in burst/limit; after that it is as good as new.
	idle := time.Duration(min(max(float64(l.burst)/float64(l.limit), 60), 86400) * float64(time.Second))
	if now.Sub(l.lastSweep) > idle {
		for k, e := range l.m {
			if now.Sub(e.seen) > idle {
				delete(l.m, k)
			}
		}
		l.lastSweep = now
	}
	e := l.m[key]
	if e == nil {
		e = &limiterEntry{lim: rate.NewLimiter(l.limit, l.burst)}
		l.m[key] = e
	}
	e.seen = now
	res := e.lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return d
	}
	return 0
}
