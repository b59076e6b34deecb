// Command reseller is Reseller Console in one binary: `reseller serve` runs
// the web console and the JSON API, and the other subcommands are the
// platform operator's tools (migrations, accounts, users, pools, tokens,
// audit exports). Run `reseller --help` for the list.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// SIGINT and SIGTERM cancel ctx: serve shuts down gracefully and other
	// commands stop at their next database call. Once ctx is done the
	// default handling comes back, so a second Ctrl-C kills at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
