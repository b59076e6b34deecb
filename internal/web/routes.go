package web

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/resellerconsole/reseller"
)

// Every route of the server is listed here, once. The table drives
// registration, query checking, metrics labels and the OpenAPI document.

const (
	apiPrefix   = "/api/v1"
	pathHealth  = "/healthz"
	pathMetrics = "/metrics"
	pathOpenAPI = "/api/openapi.json"
	pathCheckIn = "/api/plugin/v1/checkin"
)

// Common error codes: every authenticated route may return these.
var authErrors = []string{reseller.EUNAUTHORIZED, reseller.ERATELIMITED, reseller.EINTERNAL}

func (s *Server) routeTable() []*route {
	const (
		R = reseller.EINVALID
		F = reseller.EFORBIDDEN
		N = reseller.ENOTFOUND
		T = reseller.EINVALIDTRANSITION
		L = reseller.ETOOLARGE
	)
	return []*route{
		// Clients.
		{method: "GET", path: apiPrefix + "/clients", id: "listClients", tag: "clients",
			summary: "List clients, newest first", desc: "Deleted clients are left out unless status=deleted.",
			query: []param{qClientStatus, qSearch, qEmail, qNotSeen, qSort, qCursor, qLimit},
			resp:  clientList{}, errors: []string{R}, run: s.listClients},
		{method: "POST", path: apiPrefix + "/clients", id: "createClient", tag: "clients",
			summary: "Onboard a client", desc: "With pool_id, the client's first license is allocated in the same transaction (client.created, then license.allocated, with the same request id), and the response holds it with its key, shown this once. A full pool refuses the whole request.",
			body: createClientRequest{}, status: http.StatusCreated,
			resp: onboardedClient{}, errors: []string{R, L, F, N, reseller.EEMAILTAKEN, reseller.EPOOLEXHAUSTED},
			action: reseller.ActionClientCreated, run: s.createClient},
		{method: "GET", path: apiPrefix + "/clients/{id}/activity", id: "getClientActivity", tag: "sites",
			summary: "A client's site activity per day", desc: "One row per day (UTC days) from..to, empty days included, summed over the client's licenses; with the latest state of each site and the recent scans.",
			query: []param{qDayFrom, qDayTo, qTZ}, resp: reseller.ClientActivity{}, errors: []string{R, N}, run: s.clientActivity},
		{method: "GET", path: apiPrefix + "/clients/{id}", id: "getClient", tag: "clients",
			summary: "Get a client", resp: reseller.Client{}, errors: []string{R, N}, run: s.getClient},
		{method: "POST", path: apiPrefix + "/clients/{id}/suspend", id: "suspendClient", tag: "clients",
			summary: "Suspend an active client", desc: "The optional reason goes into the audit entry.",
			body: reasonRequest{}, bodyOptional: true, resp: reseller.Client{}, errors: []string{R, L, F, N, T},
			action: reseller.ActionClientSuspended, run: s.suspendClient},
		{method: "POST", path: apiPrefix + "/clients/{id}/reactivate", id: "reactivateClient", tag: "clients",
			summary: "Reactivate a suspended client", body: emptyRequest{}, bodyOptional: true,
			resp: reseller.Client{}, errors: []string{R, L, F, N, T},
			action: reseller.ActionClientReactivated, run: s.reactivateClient},
		{method: "DELETE", path: apiPrefix + "/clients/{id}", id: "deleteClient", tag: "clients",
			summary: "Delete a client", desc: "Revokes each of the client's licenses (one license.revoked entry each), then deletes the client, in one transaction. The client stays as a tombstone with status deleted. The optional reason goes into the client.deleted entry.",
			body: reasonRequest{}, bodyOptional: true, resp: reseller.Client{}, errors: []string{R, L, F, N, T},
			action: reseller.ActionClientDeleted, run: s.deleteClient},

		// Pools.
		{method: "GET", path: apiPrefix + "/pools", id: "listPools", tag: "pools",
			summary: "List license pools with their capacity, used and free slots", resp: poolList{}, run: s.listPools},

		// Licenses.
		{method: "GET", path: apiPrefix + "/licenses", id: "listLicenses", tag: "licenses",
			summary: "List licenses, newest first", query: []param{qClientID, qPoolID, qLicenseStatus, qCursor, qLimit},
			resp: licenseList{}, errors: []string{R}, run: s.listLicenses},
		{method: "POST", path: apiPrefix + "/licenses", id: "allocateLicense", tag: "licenses",
			summary: "Allocate a slot of a pool to a client", body: allocateRequest{}, status: http.StatusCreated,
			resp: reseller.License{}, errors: []string{R, L, F, N, T, reseller.EPOOLEXHAUSTED, reseller.ECLIENTSUSPENDED},
			action: reseller.ActionLicenseAllocated, run: s.allocateLicense},
		{method: "POST", path: apiPrefix + "/licenses/{id}/reissue-key", id: "reissueLicenseKey", tag: "licenses",
			summary: "Give a license a new key", desc: "The old key stops working at once; the new one is in the response (key), this once. Recorded as license.key_reissued. Licenses allocated before keys existed get their first key this way.",
			body: emptyRequest{}, bodyOptional: true, resp: reseller.License{}, errors: []string{R, L, F, N, reseller.ECONFLICT},
			action: reseller.ActionLicenseKeyReissued, run: s.reissueLicenseKey},
		{method: "POST", path: apiPrefix + "/licenses/{id}/revoke", id: "revokeLicense", tag: "licenses",
			summary: "Revoke a license, freeing its slot", body: reasonRequest{}, bodyOptional: true,
			resp: reseller.License{}, errors: []string{R, L, F, N, reseller.ECONFLICT},
			action: reseller.ActionLicenseRevoked, run: s.revokeLicense},

		// Protected sites.
		{method: "GET", path: apiPrefix + "/dashboard", id: "getDashboard", tag: "sites",
			summary: "The account at a glance", desc: "Client counts, the average score of the active clients, pool usage, the lowest-scoring clients, the clients not seen for more than a day and the newest critical alerts.",
			resp: reseller.Dashboard{}, run: s.getDashboard},
		{method: "GET", path: apiPrefix + "/alerts", id: "listAlerts", tag: "sites",
			summary: "List alerts across all clients, last raised first", query: []param{qSeverity, qDismissed, qClientID, qCursor, qLimit},
			resp: alertList{}, errors: []string{R}, run: s.listAlerts},
		{method: "POST", path: apiPrefix + "/alerts/{id}/dismiss", id: "dismissAlert", tag: "sites",
			summary: "Dismiss an alert", desc: "Clears it from the active view; it stays in the history with who dismissed it and when. Not an audit log action.",
			body: emptyRequest{}, bodyOptional: true, resp: reseller.Alert{}, errors: []string{R, L, F, N}, run: s.dismissAlert},
		{method: "POST", path: apiPrefix + "/alerts/{id}/undismiss", id: "undismissAlert", tag: "sites",
			summary: "Return a dismissed alert to the active view",
			body:    emptyRequest{}, bodyOptional: true, resp: reseller.Alert{}, errors: []string{R, L, F, N}, run: s.undismissAlert},

		// The plugin API.
		{method: "POST", path: pathCheckIn, id: "checkIn", tag: "plugin", public: true, license: true,
			summary: "Check in: report a site's state and learn the license's",
			desc:    "Sent by the plugin every next_checkin_seconds with `Authorization: License <key>`. Suspended and revoked licenses are answers (200), not errors; an unknown key is 401. Over the per-license rate limit the answer is 429 with Retry-After. See docs/plugin-protocol.md.",
			body:    reseller.CheckIn{}, resp: reseller.CheckInResult{}, errors: []string{R, L, reseller.EUNAUTHORIZED, reseller.ERATELIMITED, reseller.EUNAVAILABLE},
			run: s.checkIn},

		// Team and API tokens.
		{method: "GET", path: apiPrefix + "/users", id: "listUsers", tag: "team",
			summary: "List the team, owner first", resp: userList{}, errors: []string{F}, run: s.listUsers},
		{method: "POST", path: apiPrefix + "/users", id: "addUser", tag: "team",
			summary: "Add a user to the team", desc: "Returns the user with a one-time link to set their password (there is no mail: hand it over). Role owner is refused: transfer ownership instead. Recorded as user.added and password_link.created.",
			body: addUserRequest{}, status: http.StatusCreated, resp: addedUser{}, errors: []string{R, L, F, reseller.EEMAILTAKEN, reseller.ECONFLICT},
			action: reseller.ActionUserAdded, run: s.addUser},
		{method: "GET", path: apiPrefix + "/users/{id}", id: "getUser", tag: "team",
			summary: "Get a user of the team", resp: reseller.User{}, errors: []string{R, F, N}, run: s.getUser},
		{method: "PATCH", path: apiPrefix + "/users/{id}", id: "setUserRole", tag: "team",
			summary: "Change a user's role", desc: "Recorded as user.role_changed. The owner's role changes only by transferring ownership.",
			body: setRoleRequest{}, resp: reseller.User{}, errors: []string{R, L, F, N, reseller.ECONFLICT},
			action: reseller.ActionUserRoleChanged, run: s.setUserRole},
		{method: "DELETE", path: apiPrefix + "/users/{id}", id: "removeUser", tag: "team",
			summary: "Remove a user from the team", desc: "Their sessions end and their tokens are revoked (one token.revoked entry each), then user.removed, in one transaction. The owner cannot be removed.",
			body: emptyRequest{}, bodyOptional: true, resp: reseller.User{}, errors: []string{R, L, F, N, reseller.ECONFLICT},
			action: reseller.ActionUserRemoved, run: s.removeUser},
		{method: "POST", path: apiPrefix + "/users/{id}/transfer-ownership", id: "transferOwnership", tag: "team",
			summary: "Make a user the owner", desc: "Owner only. The owner until then becomes an admin. Recorded as ownership.transferred.",
			body: emptyRequest{}, bodyOptional: true, resp: reseller.User{}, errors: []string{R, L, F, N, reseller.ECONFLICT},
			action: reseller.ActionOwnershipTransferred, run: s.transferOwnership},
		{method: "GET", path: apiPrefix + "/tokens", id: "listTokens", tag: "team",
			summary: "List the team's API tokens, newest first", resp: tokenList{}, errors: []string{F}, run: s.listTokens},
		{method: "POST", path: apiPrefix + "/tokens", id: "createToken", tag: "team",
			summary: "Create an API token for yourself", desc: "The token acts as the caller, with the caller's role; the secret is in the response only. Recorded as token.created.",
			body: createTokenRequest{}, bodyOptional: true, status: http.StatusCreated, resp: createdToken{}, errors: []string{R, L, F},
			action: reseller.ActionTokenCreated, run: s.createToken},
		{method: "POST", path: apiPrefix + "/tokens/{id}/revoke", id: "revokeToken", tag: "team",
			summary: "Revoke an API token", desc: "Owners revoke any token; admins any but the owner's. Recorded as token.revoked.",
			body: emptyRequest{}, bodyOptional: true, resp: revokedToken{}, errors: []string{R, L, F, N, reseller.ECONFLICT},
			action: reseller.ActionTokenRevoked, run: s.revokeToken},

		// Audit log.
		{method: "GET", path: apiPrefix + "/audit", id: "listAuditEntries", tag: "audit",
			summary: "List audit log entries", desc: "Newest first by default. Page with next_cursor; no entry is lost or repeated, also among entries that share a time.",
			query: append(auditFilterParams(), qOrder, qAuditLimit, qCursor),
			resp:  entryList{}, errors: []string{R, F}, run: s.listAudit},
		{method: "GET", path: apiPrefix + "/audit/count", id: "countAuditEntries", tag: "audit",
			summary: "Count audit log entries, in total and per period", query: append(auditFilterParams(), qBucket),
			resp: reseller.AuditCount{}, errors: []string{R, F}, run: s.countAudit},
		{method: "GET", path: apiPrefix + "/audit/export", id: "exportAuditEntries", tag: "audit",
			summary: "Export audit log entries as CSV or JSON Lines",
			desc:    "Streams every matching entry, oldest first by default. JSON Lines prints each entry's canonical record bytes verbatim, one per line; CSV neutralises cells that a spreadsheet would run as a formula.",
			query:   append(auditFilterParams(), qFormat, qOrder),
			media:   []string{"text/csv", "application/jsonl"}, errors: []string{R, F}, run: s.exportAudit},

		// The verifiable log.
		{method: "GET", path: apiPrefix + "/audit/checkpoint", id: "getCheckpoint", tag: "verifiable log",
			summary: "The signed checkpoint of the log as it is now",
			desc:    "A C2SP tlog-checkpoint (origin, size, Merkle root) signed with the server's Ed25519 key as a note; see docs/audit-log-format.md.",
			resp:    reseller.Checkpoint{}, errors: []string{F}, run: s.getCheckpoint},
		{method: "GET", path: apiPrefix + "/audit/proof/inclusion", id: "proveInclusion", tag: "verifiable log",
			summary: "Prove that an entry is in the log", query: []param{qSeq, qSize},
			resp: reseller.InclusionProof{}, errors: []string{R, F}, run: s.proveInclusion},
		{method: "GET", path: apiPrefix + "/audit/proof/consistency", id: "proveConsistency", tag: "verifiable log",
			summary: "Prove that an older log is a prefix of a newer one", query: []param{qFrom, qTo},
			resp: reseller.ConsistencyProof{}, errors: []string{R, F}, run: s.proveConsistency},
		{method: "GET", path: apiPrefix + "/audit/bundle", id: "getBundle", tag: "verifiable log",
			summary: "A self-contained verification bundle of the selected entries",
			desc:    "The checkpoint, the verifier key, each selected entry's record bytes with its inclusion proof, and with since a consistency proof from that older size. Check it offline with `reseller audit verify`.",
			query:   append(auditFilterParams(), qSince), resp: bundleSchema{}, errors: []string{R, F}, run: s.getBundle},

		// Operations.
		{method: "GET", path: pathOpenAPI, id: "openapi", tag: "operations", public: true,
			summary: "This OpenAPI document", resp: map[string]any{}, run: s.serveOpenAPI},
		{method: "GET", path: pathHealth, id: "health", tag: "operations", public: true,
			summary: "Health check: ok when the database answers", media: []string{"text/plain"}, run: s.health},
		{method: "GET", path: pathMetrics, id: "metrics", tag: "operations", public: true,
			summary: "Prometheus metrics", media: []string{"text/plain"}, run: s.serveMetrics},
	}
}

// route is one entry of the table.
type route struct {
	method, path string
	id           string // operationId
	tag          string
	summary      string
	desc         string
	public       bool    // no token needed
	license      bool    // public, authenticated by a license key instead (the plugin API)
	query        []param // path parameters come from the path
	body         any     // request body type (zero value), nil for none; handlers read it with routeBody
	bodyOptional bool
	status       int      // success status, 200 if 0
	resp         any      // JSON response type (zero value)
	media        []string // non-JSON response media types
	errors       []string // error codes besides the common ones
	action       reseller.Action
	run          func(w http.ResponseWriter, r *http.Request) error
}

// param is a query parameter of a route.
type param struct {
	name     string
	typ      string // "string" or "integer"
	format   string
	desc     string
	enum     []string
	repeat   bool
	required bool
}

var (
	qCursor        = param{name: "cursor", typ: "string", desc: "next_cursor of the previous page."}
	qLimit         = param{name: "limit", typ: "integer", desc: "Page size, 1 to 500; 50 by default."}
	qAuditLimit    = qLimit
	qSearch        = param{name: "q", typ: "string", desc: "Part of the email or name, case-insensitive."}
	qEmail         = param{name: "email", typ: "string", desc: "Same as q."}
	qClientStatus  = param{name: "status", typ: "string", enum: []string{"active", "suspended", "deleted"}}
	qLicenseStatus = param{name: "status", typ: "string", enum: []string{"active", "revoked"}}
	qClientID      = param{name: "client_id", typ: "integer"}
	qPoolID        = param{name: "pool_id", typ: "integer"}
	qOrder         = param{name: "order", typ: "string", enum: []string{"desc", "asc"}, desc: "desc (newest first) is the default for listing, asc for exports."}
	qBucket        = param{name: "bucket", typ: "string", enum: reseller.Buckets, desc: "Also count per period, in the tz zone; weeks start on Monday."}
	qSeq           = param{name: "seq", typ: "integer", desc: "The entry's sequence number.", required: true}
	qSize          = param{name: "size", typ: "integer", desc: "Tree size to prove against; the log as it is now by default."}
	qFrom          = param{name: "from", typ: "integer", desc: "The older tree size.", required: true}
	qTo            = param{name: "to", typ: "integer", desc: "The newer tree size; the log as it is now by default."}
	qSince         = param{name: "since", typ: "integer", desc: "An older tree size (from a checkpoint the auditor kept) to prove consistency from; 0 or absent for no consistency proof."}
	qNotSeen       = param{name: "not_seen_days", typ: "integer", desc: "Only clients whose sites have not checked in for more than this many days (never seen included)."}
	qSort          = param{name: "sort", typ: "string", enum: reseller.ClientSorts, desc: "newest (the default), score (lowest first), -score, last_seen (longest unseen first) or -last_seen; clients that never reported come last."}
	qSeverity      = param{name: "severity", typ: "string", enum: []string{"critical", "warning", "info"}}
	qDismissed     = param{name: "dismissed", typ: "string", enum: []string{reseller.AlertsActive, reseller.AlertsDismissed, reseller.AlertsAll}, desc: "active (the default), dismissed or all."}
	qDayFrom       = param{name: "from", typ: "string", format: "date", desc: "First day, 2006-01-02; 29 days before to by default."}
	qDayTo         = param{name: "to", typ: "string", format: "date", desc: "Last day, inclusive; today in tz by default."}
	qTZ            = param{name: "tz", typ: "string", desc: "IANA time zone in which today is read, e.g. Europe/Paris; UTC by default."}
	qFormat        = param{name: "format", typ: "string", enum: []string{"csv", "jsonl"}, desc: "csv by default."}
)

// auditFilterParams are the filters every audit route takes.
func auditFilterParams() []param {
	return []param{
		{name: "action", typ: "string", enum: reseller.ActionStrings(reseller.Actions), repeat: true, desc: "Only these actions; repeat it or give a comma list."},
		{name: "target", typ: "string", desc: "Only entries about one client: an email matches exactly (as it was then); * stands for any characters (*@acme.test); a value with neither @ nor * finds clients whose name or email contains it (\"Red Pine\", \"acme\"); client:42 is the client with id 42."},
		{name: "actor", typ: "string", desc: "Only entries performed by the user with this email; part of an email searches, as for target."},
		{name: "client_id", typ: "integer", desc: "Only entries about this client."},
		{name: "from", typ: "string", desc: "From this time (RFC 3339) or date (2006-01-02, in tz, from its start), inclusive."},
		{name: "to", typ: "string", desc: "Up to this time (RFC 3339, exclusive) or date (2006-01-02, in tz, including that whole day). The same rule holds for created:A..B in q and for the command line's --to."},
		{name: "tz", typ: "string", desc: "IANA time zone of dates and buckets, e.g. Europe/Paris; UTC by default."},
		{name: "q", typ: "string", desc: "A query such as `action:client.suspended actor:alice@acme.test created:2026-07-01..2026-09-30 -target:test@x.io`; combined with the other filters (AND). In created:A..B an end date includes its whole day and an end time is excluded, as for to."},
	}
}

// register adds every route of the table to the mux.
func (s *Server) register() {
	for _, rt := range s.routes {
		s.mux.Handle(rt.method+" "+rt.path, s.handle(rt))
	}
}

// handle wraps a route's handler: it names the route for logs and metrics,
// authenticates, checks the query, writes errors as problems and counts the
// actions that succeeded.
func (s *Server) handle(rt *route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		infoFrom(r.Context()).route = rt.path
		err := func() error {
			if !rt.public {
				var err error
				if r, err = s.authenticate(w, r); err != nil {
					return err
				}
			}
			if err := rt.checkQuery(r); err != nil {
				return err
			}
			if rt.method != http.MethodGet && s.cop.Check(r) != nil {
				// A browser sent this from another site. API clients send
				// neither Origin nor Sec-Fetch-Site, so they pass.
				return reseller.Errorf(reseller.EFORBIDDEN, "Cross-origin requests from a browser are refused.")
			}
			return rt.run(w, r.WithContext(context.WithValue(r.Context(), routeKey{}, rt)))
		}()
		switch {
		case err != nil && started(w):
			s.log.LogAttrs(r.Context(), slog.LevelWarn, "error after the response started",
				slog.String("request_id", infoFrom(r.Context()).id), slog.String("error", err.Error()))
		case err != nil:
			s.writeError(w, r, err)
		case rt.action != "":
			s.metrics.actions.WithLabelValues(string(rt.action)).Inc()
		}
	})
}

// The web console's routes. Only POST changes anything; each POST is
// refused when it comes from another origin (see Server.console). Pages
// needing a session (signedIn) send the signed-out to /signin.
func (s *Server) consoleRoutes() []consoleRoute {
	return []consoleRoute{
		{"GET /{$}", public, s.home},
		{"GET /signin", public, s.signInPage},
		{"POST /signin", public, s.signIn},
		{"POST /signout", public, s.signOut},
		{"GET /password/{secret}", public, s.passwordPage},
		{"POST /password/{secret}", public, s.setPassword},
		{"GET /clients", signedIn, s.fleetPage},
		{"POST /clients", signedIn, s.createClientForm},
		{"GET /clients/{id}", signedIn, s.clientPage},
		{"POST /clients/{id}/suspend", signedIn, s.suspendClientForm},
		{"POST /clients/{id}/reactivate", signedIn, s.reactivateClientForm},
		{"GET /clients/{id}/delete", signedIn, s.deleteClientPage},
		{"POST /clients/{id}/delete", signedIn, s.deleteClientForm},
		{"POST /clients/{id}/licenses", signedIn, s.allocateLicenseForm},
		{"GET /licenses/{id}/revoke", signedIn, s.revokeLicensePage},
		{"POST /licenses/{id}/revoke", signedIn, s.revokeLicenseForm},
		{"GET /licenses/{id}/reissue", signedIn, s.reissueKeyPage},
		{"POST /licenses/{id}/reissue", signedIn, s.reissueKeyForm},
		{"GET /alerts", signedIn, s.alertsPage},
		{"POST /alerts/{id}/dismiss", signedIn, s.dismissAlertForm},
		{"POST /alerts/{id}/undismiss", signedIn, s.undismissAlertForm},
		{"GET /pools", signedIn, s.poolsPage},
		{"GET /team", signedIn, s.teamPage},
		{"POST /team", signedIn, s.addUserForm},
		{"POST /team/{id}/role", signedIn, s.setRoleForm},
		{"POST /team/{id}/link", signedIn, s.passwordLinkForm},
		{"GET /team/{id}/remove", signedIn, s.removeUserPage},
		{"POST /team/{id}/remove", signedIn, s.removeUserForm},
		{"POST /team/tokens", signedIn, s.createTokenForm},
		{"GET /team/tokens/{id}/revoke", signedIn, s.revokeTokenPage},
		{"POST /team/tokens/{id}/revoke", signedIn, s.revokeTokenForm},
		{"GET /audit", signedIn, s.auditPage},
		{"GET /audit/export.csv", signedIn, s.exportPage("csv")},
		{"GET /audit/export.jsonl", signedIn, s.exportPage("jsonl")},
		{"GET /audit/export.bundle", signedIn, s.exportBundlePage},
		{"GET /audit/{id}", signedIn, s.entryPage},
		{"GET /settings", signedIn, s.settingsPage},
		{"POST /settings/timezone", signedIn, s.setTimeZoneForm},
		{"POST /settings/password", signedIn, s.changePasswordForm},
		{"POST /settings/signout-all", signedIn, s.signOutEverywhere},
		{"GET /help", public, s.helpPage},
	}
}

// consoleRoute is a page or form of the console.
type consoleRoute struct {
	pattern string
	kind    int // signedIn or public
	run     consoleFunc
}
