package web

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Failed sign-ins are limited per client address and per account, so that
// guessing passwords is slow whether one machine tries many accounts or many
// machines try one. The account key is the user's account when the email
// belongs to a user, else the email itself, so unknown emails are limited
// too and the limit does not tell which emails exist. Keying per account
// means a burst of failures against one user also pauses their teammates'
// sign-ins for a few minutes: the price of stopping a spread-out attack on
// a team.
//
// The counters live in memory: with several instances behind a load
// balancer each keeps its own, so the real limit is the sum over instances.

// Allowance of failed sign-ins: loginFailures per loginWindow per key, as a
// token bucket that refills one failure every loginWindow/loginFailures.
const (
	loginFailures = 5
	loginWindow   = 15 * time.Minute
)

type loginLimiter struct {
	mu        sync.Mutex
	m         map[string]*rate.Limiter
	lastSweep time.Time
}

func newLoginLimiter() *loginLimiter {
	return &loginLimiter{m: map[string]*rate.Limiter{}}
}

func (l *loginLimiter) get(key string, now time.Time) *rate.Limiter {
	// Drop buckets that have refilled: they are as good as new.
	if now.Sub(l.lastSweep) > loginWindow {
		for k, lim := range l.m {
			if lim.TokensAt(now) >= loginFailures {
				delete(l.m, k)
			}
		}
		l.lastSweep = now
	}
	lim := l.m[key]
	if lim == nil {
		lim = rate.NewLimiter(rate.Every(loginWindow/loginFailures), loginFailures)
		l.m[key] = lim
	}
	return lim
}

// wait returns how long until every key may try again: 0 if all may now.
func (l *loginLimiter) wait(now time.Time, keys ...string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var longest time.Duration
	for _, k := range keys {
		lim, ok := l.m[k]
		if !ok {
			continue
		}
		if tokens := lim.TokensAt(now); tokens < 1 {
			d := time.Duration((1 - tokens) * float64(loginWindow/loginFailures))
			longest = max(longest, d)
		}
	}
	return longest
}

// fail counts a failed sign-in against every key.
func (l *loginLimiter) fail(now time.Time, keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		l.get(k, now).AllowN(now, 1)
	}
}

// minutes rounds a wait up to whole minutes, at least 1.
func minutes(d time.Duration) int {
	return max(1, int(math.Ceil(d.Minutes())))
}
