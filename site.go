package reseller

import (
	"context"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Protected sites: each client's site runs the security plugin, which checks
// in with a license key and reports its score, scans, firewall blocks and
// alerts. None of it is in the audit log (DESIGN.md 3b); it is kept beside
// it, in the per-client and per-fleet views below.

// LicenseKeyPrefix starts every license key, so that one found in a
// configuration file or a leak is recognisable.
const LicenseKeyPrefix = "rlk_"

// MaxSiteURLLen is the longest site URL accepted.
const MaxSiteURLLen = 2048

// NormalizeSiteURL checks that s is an absolute https URL of a site and
// returns it in one form: the host in lower case, no default port, no
// trailing slash after a bare host, no fragment. "" stays "" (no site yet).
// EINVALID names the problem otherwise.
func NormalizeSiteURL(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if len(s) > MaxSiteURLLen {
		return "", Errorf(EINVALID, "Site URL is longer than %d characters.", MaxSiteURLLen)
	}
	if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r == ' ' }) {
		return "", Errorf(EINVALID, "Site URL %q holds spaces or control characters.", s)
	}
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" {
		return "", Errorf(EINVALID, "Site URL %q is not a URL; give the full address, such as https://www.example.com.", s)
	}
	if !strings.EqualFold(u.Scheme, "https") {
		return "", Errorf(EINVALID, "Site URL %q must start with https://.", s)
	}
	if u.User != nil {
		return "", Errorf(EINVALID, "Site URL %q must not hold a user name or password.", s)
	}
	host, port := u.Hostname(), u.Port()
	if host == "" || strings.HasPrefix(host, ".") || strings.HasSuffix(host, "..") {
		return "", Errorf(EINVALID, "Site URL %q has no host name.", s)
	}
	host = strings.ToLower(host)
	if port == "443" {
		port = ""
	}
	if strings.Contains(host, ":") { // an IPv6 literal
		host = "[" + host + "]"
	}
	if port != "" {
		host = net.JoinHostPort(strings.Trim(host, "[]"), port)
	}
	u.Scheme, u.Host, u.Fragment, u.RawFragment = "https", host, "", ""
	if u.Path == "/" && u.RawQuery == "" {
		u.Path, u.RawPath = "", ""
	}
	out := u.String()
	if len(out) > MaxSiteURLLen {
		return "", Errorf(EINVALID, "Site URL is longer than %d characters.", MaxSiteURLLen)
	}
	return out, nil
}

// Severity is how urgent an alert is.
type Severity string

// Severities, most urgent first.
const (
	SeverityCritical Severity = "critical" // exposed now: same-day work
	SeverityWarning  Severity = "warning"  // fix within days
	SeverityInfo     Severity = "info"     // no action needed
)

// Severities lists every severity, most urgent first.
var Severities = []Severity{SeverityCritical, SeverityWarning, SeverityInfo}

// Valid reports whether s is a known severity.
func (s Severity) Valid() bool {
	return s == SeverityCritical || s == SeverityWarning || s == SeverityInfo
}

// Plugin check-in limits.
const (
	MaxVersionLen       = 64  // plugin and platform versions
	MaxAlertKeyLen      = 200 // an alert's deduplication key
	MaxAlertKindLen     = 64
	MaxAlertMessageLen  = 2000
	MaxAlertsPerCheckIn = 50
)

// CheckIn is what the plugin on a site reports (docs/plugin-protocol.md).
type CheckIn struct {
	SiteURL         string        `json:"site_url"`
	PluginVersion   string        `json:"plugin_version"`
	PlatformVersion string        `json:"platform_version,omitempty"`
	Score           *int          `json:"score"`
	Scan            *Scan         `json:"scan,omitempty"`
	Firewall        *Firewall     `json:"firewall,omitempty"`
	Alerts          []*AlertInput `json:"alerts,omitempty"`
}

// Scan is one completed scan of a site.
type Scan struct {
	CompletedAt  time.Time `json:"completed_at"`
	FilesScanned int64     `json:"files_scanned"`
	Findings     Findings  `json:"findings"`
}

// Findings counts what a scan found, by severity.
type Findings struct {
	Critical int64 `json:"critical"`
	Warning  int64 `json:"warning"`
	Info     int64 `json:"info"`
}

// Firewall is what the site's firewall did since the previous check-in.
type Firewall struct {
	Blocked int64 `json:"blocked"`
}

// AlertInput is an alert as the plugin raises it. Key deduplicates: the same
// key from the same license updates one alert.
type AlertInput struct {
	Key      string    `json:"key"`
	Severity Severity  `json:"severity"`
	Kind     string    `json:"kind"`
	Message  string    `json:"message"`
	RaisedAt time.Time `json:"raised_at"`
}

// maxCount bounds the counters a check-in reports (files, findings, blocks).
const maxCount = 1 << 40

// Validate checks a check-in as the plugin sent it, at now, and normalises
// its site URL. EINVALID names the field.
func (c *CheckIn) Validate(now time.Time) error {
	var err error
	if c.SiteURL == "" {
		return Errorf(EINVALID, "Field \"site_url\" is required: the site's https URL.")
	}
	if c.SiteURL, err = NormalizeSiteURL(c.SiteURL); err != nil {
		return Errorf(EINVALID, "Field \"site_url\": %s", ErrorMessage(err))
	}
	if c.PluginVersion, err = checkVersion("plugin_version", c.PluginVersion, true); err != nil {
		return err
	}
	if c.PlatformVersion, err = checkVersion("platform_version", c.PlatformVersion, false); err != nil {
		return err
	}
	switch {
	case c.Score == nil:
		return Errorf(EINVALID, "Field \"score\" is required: the security score, 0 to 100.")
	case *c.Score < 0 || *c.Score > 100:
		return Errorf(EINVALID, "Field \"score\" is %d; it must be between 0 and 100.", *c.Score)
	}
	late := now.Add(time.Hour) // clocks drift; an hour ahead is still believable
	if s := c.Scan; s != nil {
		switch {
		case s.CompletedAt.IsZero():
			return Errorf(EINVALID, "Field \"scan.completed_at\" is required: when the scan ended (RFC 3339).")
		case s.CompletedAt.After(late):
			return Errorf(EINVALID, "Field \"scan.completed_at\" is in the future.")
		case s.FilesScanned < 0 || s.FilesScanned > maxCount:
			return Errorf(EINVALID, "Field \"scan.files_scanned\" must be a count (0 or more).")
		}
		for _, f := range []struct {
			name string
			n    int64
		}{{"critical", s.Findings.Critical}, {"warning", s.Findings.Warning}, {"info", s.Findings.Info}} {
			if f.n < 0 || f.n > maxCount {
				return Errorf(EINVALID, "Field \"scan.findings.%s\" must be a count (0 or more).", f.name)
			}
		}
	}
	if c.Firewall != nil && (c.Firewall.Blocked < 0 || c.Firewall.Blocked > maxCount) {
		return Errorf(EINVALID, "Field \"firewall.blocked\" must be a count (0 or more).")
	}
	if len(c.Alerts) > MaxAlertsPerCheckIn {
		return Errorf(EINVALID, "Field \"alerts\" holds %d alerts; send at most %d per check-in.", len(c.Alerts), MaxAlertsPerCheckIn)
	}
	for i, a := range c.Alerts {
		if err := a.validate(i, late); err != nil {
			return err
		}
	}
	return nil
}

func (a *AlertInput) validate(i int, late time.Time) error {
	field := func(name string) string { return "alerts[" + strconv.Itoa(i) + "]." + name }
	if a == nil {
		return Errorf(EINVALID, "Field \"alerts[%d]\" must be an object.", i)
	}
	var err error
	if a.Key = strings.TrimSpace(a.Key); a.Key == "" {
		return Errorf(EINVALID, "Field %q is required: the alert's key, which deduplicates it.", field("key"))
	}
	if a.Key, err = CleanText(field("key"), a.Key, MaxAlertKeyLen); err != nil {
		return err
	}
	if !a.Severity.Valid() {
		return Errorf(EINVALID, "Field %q is %q; it must be critical, warning or info.", field("severity"), a.Severity)
	}
	if a.Kind, err = CleanText(field("kind"), a.Kind, MaxAlertKindLen); err != nil {
		return err
	} else if a.Kind == "" {
		return Errorf(EINVALID, "Field %q is required: what kind of event this is (malware, firewall, login...).", field("kind"))
	}
	if a.Message, err = CleanText(field("message"), a.Message, MaxAlertMessageLen); err != nil {
		return err
	} else if a.Message == "" {
		return Errorf(EINVALID, "Field %q is required.", field("message"))
	}
	switch {
	case a.RaisedAt.IsZero():
		return Errorf(EINVALID, "Field %q is required: when the plugin raised it (RFC 3339).", field("raised_at"))
	case a.RaisedAt.After(late):
		return Errorf(EINVALID, "Field %q is in the future.", field("raised_at"))
	}
	return nil
}

func checkVersion(field, v string, required bool) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		if required {
			return "", Errorf(EINVALID, "Field %q is required.", field)
		}
		return "", nil
	}
	return CleanText("Field \""+field+"\"", v, MaxVersionLen)
}

// LicenseState is what the plugin is told of its license on each check-in.
type LicenseState string

// License states as the plugin sees them. Suspended and revoked are answers,
// not errors, so that the plugin can degrade gracefully.
const (
	PluginActive    LicenseState = "active"
	PluginSuspended LicenseState = "suspended" // the client is suspended
	PluginRevoked   LicenseState = "revoked"   // the license is revoked, or the client deleted
)

// CheckInResult is the answer to a check-in.
type CheckInResult struct {
	License struct {
		Status  LicenseState `json:"status"`
		Product string       `json:"product"`
		Pool    string       `json:"pool"`
	} `json:"license"`
	NextCheckInSeconds int `json:"next_checkin_seconds"`
}

// DefaultCheckInInterval is how often a plugin checks in when nothing asks it to slow down.
const DefaultCheckInInterval = 5 * time.Minute

// SiteState is the latest a license's plugin reported.
type SiteState struct {
	LicenseID       int64     `json:"license_id"`
	ClientID        int64     `json:"client_id"`
	SiteURL         string    `json:"site_url"` // as the plugin reported it
	PluginVersion   string    `json:"plugin_version"`
	PlatformVersion string    `json:"platform_version"`
	Score           int       `json:"score"`
	LastSeen        time.Time `json:"last_seen"`
}

// ActivityDay is one day (UTC) of a client's activity, over its licenses.
// The score fields are nil on a day without check-ins.
type ActivityDay struct {
	Day       string `json:"day"` // 2006-01-02, UTC
	CheckIns  int64  `json:"checkins"`
	ScoreMin  *int   `json:"score_min"`
	ScoreAvg  *int   `json:"score_avg"`
	ScoreLast *int   `json:"score_last"`
	Blocked   int64  `json:"firewall_blocked"`
	Scans     int64  `json:"scans"`
	Findings  `json:"findings"`
}

// ScanReport is a scan as a check-in reported it, kept for the retention period.
type ScanReport struct {
	LicenseID    int64     `json:"license_id"`
	CompletedAt  time.Time `json:"completed_at"`
	FilesScanned int64     `json:"files_scanned"`
	Findings     Findings  `json:"findings"`
}

// ClientActivity is the per-client view of a client's site activity.
type ClientActivity struct {
	ClientID int64         `json:"client_id"`
	From     string        `json:"from"`         // first day, 2006-01-02
	To       string        `json:"to"`           // last day, inclusive
	Days     []ActivityDay `json:"days"`         // every day From..To, oldest first, empty days included
	Sites    []SiteState   `json:"sites"`        // latest state of each license that reported
	Scans    []ScanReport  `json:"recent_scans"` // newest first, at most 20
}

// MaxActivityDays bounds the range of one ClientActivity request.
const MaxActivityDays = 400

// Alert is a security event a site's plugin raised. Dismissing never deletes it.
type Alert struct {
	ID          int64      `json:"id"`
	ClientID    int64      `json:"client_id"`
	ClientEmail string     `json:"client_email"`
	LicenseID   int64      `json:"license_id"`
	Key         string     `json:"key"`
	Severity    Severity   `json:"severity"`
	Kind        string     `json:"kind"`
	Message     string     `json:"message"`
	FirstRaised time.Time  `json:"first_raised"`
	LastRaised  time.Time  `json:"last_raised"`
	TimesRaised int64      `json:"times_raised"`
	DismissedAt *time.Time `json:"dismissed_at"`
	DismissedBy string     `json:"dismissed_by"` // the user's email, "" while active
}

// Dismissed filter values of AlertFilter.
const (
	AlertsActive    = "active" // the default
	AlertsDismissed = "dismissed"
	AlertsAll       = "all"
)

// AlertFilter selects alerts of the actor's account, newest raised first.
type AlertFilter struct {
	Severity  Severity // "" for all
	Dismissed string   // AlertsActive ("" too), AlertsDismissed or AlertsAll
	ClientID  int64
	Cursor    string
	Limit     int
}

// Dashboard is the landing page's roll-up of an account.
type Dashboard struct {
	TotalClients     int64          `json:"total_clients"` // every client ever onboarded but deleted ones
	ActiveClients    int64          `json:"active_clients"`
	SuspendedClients int64          `json:"suspended_clients"`
	AverageScore     *float64       `json:"average_score"` // over active clients that reported; nil if none
	Pools            []*Pool        `json:"pools"`
	LowestScores     []*ClientScore `json:"lowest_scores"` // active clients, lowest score first
	NotSeen          []*ClientScore `json:"not_seen"`      // active clients not seen for more than a day, longest first
	NotSeenCount     int64          `json:"not_seen_count"`
	CriticalAlerts   []*Alert       `json:"critical_alerts"` // active critical alerts, newest first
}

// ClientScore is a client in one of the dashboard's lists.
type ClientScore struct {
	ClientID int64      `json:"client_id"`
	Email    string     `json:"email"`
	SiteURL  string     `json:"site_url"`
	Score    *int       `json:"score"`
	LastSeen *time.Time `json:"last_seen"`
}

// DashboardListSize is how many clients or alerts each dashboard list holds.
const DashboardListSize = 10

// NotSeenAfter is how long without a check-in makes a client "not seen".
const NotSeenAfter = 24 * time.Hour

// Client list orders (ClientFilter.Sort).
const (
	SortNewest       = ""           // newest client first, the default
	SortScore        = "score"      // lowest score first; clients without one first
	SortScoreDesc    = "-score"     // highest score first
	SortLastSeen     = "last_seen"  // longest unseen first; never seen first
	SortLastSeenDesc = "-last_seen" // most recently seen first
)

// ClientSorts lists the orders a client list takes.
var ClientSorts = []string{"newest", SortScore, SortScoreDesc, SortLastSeen, SortLastSeenDesc}

// SiteService is the protected-sites side of the store: plugin check-ins
// and the views they feed. Check-ins authenticate by license key, not by an
// actor; everything else acts for the actor in ctx, scoped to its account
// (PermViewClients to read, PermManageClients to dismiss).
type SiteService interface {
	// CheckIn records a plugin's check-in made with a license key and tells
	// it its license's state. EUNAUTHORIZED for an unknown key, EINVALID for
	// bad input. Nothing it writes enters the audit log.
	CheckIn(ctx context.Context, key string, in *CheckIn) (*CheckInResult, error)
	// ReissueLicenseKey gives an active license a new key, returned once
	// in License.Key; the old one stops working (license.key_reissued).
	// ENOTFOUND, ECONFLICT (revoked), EFORBIDDEN.
	ReissueLicenseKey(ctx context.Context, licenseID int64) (*License, error)
	// Dashboard returns the account's roll-up.
	Dashboard(ctx context.Context) (*Dashboard, error)
	// ListAlerts returns a page of alerts and the next cursor. EINVALID.
	ListAlerts(ctx context.Context, f AlertFilter) ([]*Alert, string, error)
	// DismissAlert clears an alert from the active view; ENOTFOUND.
	// Dismissing a dismissed alert changes nothing.
	DismissAlert(ctx context.Context, id int64) (*Alert, error)
	// UndismissAlert returns an alert to the active view; ENOTFOUND.
	UndismissAlert(ctx context.Context, id int64) (*Alert, error)
	// ClientActivity returns a client's daily series for the days from..to
	// (dates in loc; zero times for the last 30 days), its sites' latest
	// state and its recent scans. ENOTFOUND, EINVALID.
	ClientActivity(ctx context.Context, clientID int64, from, to time.Time, loc *time.Location) (*ClientActivity, error)
}
