// Command devpg runs a command beside a throwaway Postgres: it starts a
// private cluster on a free 127.0.0.1 port, creates and migrates database
// "todo", runs the command with these set, then stops the cluster and
// removes its files, whatever the command did.
//
//	DATABASE_URL        the API's login role (todo_api) on database todo
//	OWNER_DATABASE_URL  the schema owner (todo_owner) on database todo
//	TEST_DATABASE_URL   the cluster's superuser, for tests that make databases
//	TEST_PGBOUNCER_ADDR with -pgbouncer: a PgBouncer in transaction mode in front of it
//
// Usage: devpg [-pgbouncer] -- COMMAND [ARG...]
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/todoapi/todoapi/internal/pgcluster"
)

func main() {
	code, err := run(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "devpg:", err)
	}
	os.Exit(code)
}

func run(args []string) (int, error) {
	withPgBouncer := len(args) > 0 && args[0] == "-pgbouncer"
	if withPgBouncer {
		args = args[1:]
	}
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		return 2, errors.New("usage: devpg [-pgbouncer] -- COMMAND [ARG...]")
	}
	// The command gets Ctrl-C itself; devpg waits for it and then cleans up.
	signal.Ignore(os.Interrupt, syscall.SIGTERM)

	ctx := context.Background()
	cluster, err := pgcluster.Start(ctx)
	if err != nil {
		return 1, err
	}
	defer func() {
		if err := cluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "devpg: stop:", err)
		}
	}()
	if err := pgcluster.CreateDatabase(ctx, cluster.AdminURL(), "todo", ""); err != nil {
		return 1, err
	}
	if err := pgcluster.Migrate(ctx, cluster.URL(pgcluster.OwnerRole, "todo")); err != nil {
		return 1, fmt.Errorf("migrate: %w", err)
	}

	var extraEnv []string
	if withPgBouncer {
		bouncer, err := cluster.StartPgBouncer(ctx)
		if err != nil {
			return 1, err
		}
		defer bouncer.Stop()
		extraEnv = append(extraEnv, "TEST_PGBOUNCER_ADDR="+bouncer.Addr)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(),
		"DATABASE_URL="+cluster.URL(pgcluster.APIRole, "todo"),
		"OWNER_DATABASE_URL="+cluster.URL(pgcluster.OwnerRole, "todo"),
		"TEST_DATABASE_URL="+cluster.AdminURL(),
	)
	cmd.Env = append(cmd.Env, extraEnv...)
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), nil
	}
	if err != nil {
		return 1, err
	}
	return 0, nil
}
