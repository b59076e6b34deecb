// Command testreport reads `go test -json` on stdin and prints what plain
// `go test` would: the output of failed tests and each package's ok/FAIL
// line. It also fails the run when a suite that CI must cover was skipped:
// a PostgreSQL subtest (a name containing "/postgres") or a browser test (a
// name containing "Browser"). Those skip themselves on machines without the
// service, which is right for a developer and wrong for CI.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

func main() {
	var (
		buffered = map[string][]string{} // package + test -> output so far
		summary  []string                // package lines, printed last
		skipped  []string                // tests CI must not skip
		failed   bool
		counts   = map[string]int{}
	)
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Text()
		var e event
		if !strings.HasPrefix(line, "{") || json.Unmarshal([]byte(line), &e) != nil {
			fmt.Println(line) // build errors and anything else go test printed as text
			continue
		}
		key := e.Package + "\x00" + e.Test
		switch {
		case e.Action == "build-output":
			fmt.Print(e.Output)
		case e.Action == "build-fail":
			failed = true
		case e.Test == "" && e.Action == "output":
			if isSummary(e.Output) {
				summary = append(summary, strings.TrimRight(e.Output, "\n"))
			} else if strings.TrimSpace(e.Output) != "PASS" {
				fmt.Print(e.Output)
			}
		case e.Test == "" && e.Action == "fail":
			failed = true
		case e.Action == "output":
			if !strings.HasPrefix(e.Output, "=== ") { // RUN, PAUSE, CONT: -v noise
				buffered[key] = append(buffered[key], e.Output)
			}
		case e.Action == "fail":
			failed = true
			counts["failed"]++
			fmt.Print(strings.Join(buffered[key], ""))
			delete(buffered, key)
		case e.Action == "pass":
			counts["passed"]++
			delete(buffered, key)
		case e.Action == "skip":
			counts["skipped"]++
			if reason := skipReason(buffered[key]); mustRun(e.Test, reason) {
				skipped = append(skipped, e.Package+" "+e.Test+": "+reason)
			}
			delete(buffered, key)
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		failed = true
	}
	if len(skipped) > 0 {
		sort.Strings(skipped)
		fmt.Printf("\nCI must run these tests, but they were skipped:\n")
		for _, s := range skipped {
			fmt.Println("  " + s)
		}
		fmt.Println()
	}
	fmt.Printf("tests: %d passed, %d failed, %d skipped\n", counts["passed"], counts["failed"], counts["skipped"])
	for _, s := range summary {
		fmt.Println(s)
	}
	if failed || len(skipped) > 0 {
		os.Exit(1)
	}
}

// isSummary reports whether a package-level line is go test's verdict for
// the package: "ok  \tpkg\t1.2s", "FAIL\tpkg\t...", or "?   \tpkg\t[no test files]".
func isSummary(s string) bool {
	return strings.HasPrefix(s, "ok  \t") || strings.HasPrefix(s, "FAIL\t") || strings.HasPrefix(s, "?   \t")
}

// mustRun reports whether CI must not skip a test: a PostgreSQL or browser
// suite, known by its name or by the reason it gave for skipping.
func mustRun(name, reason string) bool {
	return strings.Contains(name, "/postgres") || strings.Contains(name, "Browser") ||
		strings.Contains(reason, "PostgreSQL") || strings.Contains(strings.ToLower(reason), "chromium")
}

// skipReason is the message a skipped test gave.
func skipReason(out []string) string {
	for _, l := range out {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "--- SKIP") {
			return l
		}
	}
	return "no reason given"
}
