package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/todoapi/todoapi/db"
)

func migrateCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	url := getenv("DATABASE_URL")
	if url == "" {
		return errors.New("DATABASE_URL must be set (the schema owner's)")
	}
	if len(args) == 0 {
		return errors.New("usage: todoapi migrate up|down [N]|version")
	}
	switch args[0] {
	case "up":
		if err := db.MigrateUp(ctx, url); err != nil {
			return err
		}
	case "down":
		steps := 1
		if len(args) > 1 {
			n, err := strconv.Atoi(args[1])
			if err != nil {
				return fmt.Errorf("migrate down: %q is not a number", args[1])
			}
			steps = n
		}
		if err := db.MigrateDown(url, steps); err != nil {
			return err
		}
	case "version":
	default:
		return fmt.Errorf("unknown migrate command %q", args[0])
	}
	version, dirty, err := db.MigrateVersion(url)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "schema version %d (dirty: %t; this build expects %d)\n", version, dirty, db.ExpectedVersion())
	return nil
}
