// Command todoapi serves the Todo API and manages its database.
//
//	todoapi serve                    run the HTTP API
//	todoapi migrate up|down [N]|version
//	todoapi token --sub ID [--ttl 1h]  print a development HS256 token
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "todoapi:", err)
		}
		os.Exit(1)
	}
}

const usage = `usage: todoapi <command>
  serve                      run the HTTP API (DATABASE_URL, JWT_SECRET, LISTEN_ADDR, ...)
  migrate up                 apply migrations and the policies of policies/ (owner's DATABASE_URL)
  migrate down [N]           revert the last N migrations (default 1)
  migrate version            print the applied schema version
  token --sub ID [--ttl 1h]  print an HS256 token signed with JWT_SECRET, for development`

// run is the whole program; main only wires it to the process.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return errors.New("no command")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, getenv, stdout, stderr)
	case "migrate":
		return migrateCmd(ctx, args[1:], getenv, stdout)
	case "token":
		return tokenCmd(args[1:], getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	fmt.Fprintln(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}
