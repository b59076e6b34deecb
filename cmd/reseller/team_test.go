package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// The operator's CLI writes team changes to the log as the platform
// operator's, never as a user's: adding the owner and issuing a token.
func TestOperatorTeamCommandsAreLogged(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "ops.db")
	mustCLI(t, "", "--db", dsn, "migrate")
	acc := oneLine(t, idLine, mustCLI(t, "", "--db", dsn, "account", "create", "--name", "Ops").stdout)
	mustCLI(t, "", "--db", dsn, "user", "add", "--account", acc, "--email", "boss@ops.test", "--role", "owner")
	mustCLI(t, "", "--db", dsn, "token", "create", "--user", "boss@ops.test", "--name", "deploy")
	out := mustCLI(t, "", "--db", dsn, "audit", "export", "--account", acc, "--format", "jsonl").stdout
	var got []string
	for line := range strings.Lines(out) {
		var rec struct {
			Action string `json:"action"`
			Target struct {
				Type  string `json:"type"`
				Email string `json:"email"`
			} `json:"target"`
			Actor struct {
				ID    int64  `json:"id"`
				Email string `json:"email"`
				Role  string `json:"role"`
				Via   string `json:"via"`
			} `json:"actor"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		got = append(got, rec.Action+" "+rec.Target.Type+" "+rec.Target.Email+" by "+rec.Actor.Role+"/"+rec.Actor.Via+"/"+rec.Actor.Email)
	}
	want := []string{"user.added user boss@ops.test by platform/cli/", "token.created user boss@ops.test by platform/cli/"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
