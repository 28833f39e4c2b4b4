package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/todoapi/todoapi/internal/auth"
	"github.com/todoapi/todoapi/internal/config"
)

func tokenCmd(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("token", flag.ContinueOnError)
	flags.SetOutput(stderr)
	sub := flags.String("sub", "", "the user id (JWT sub) the token is for")
	ttl := flags.Duration("ttl", time.Hour, "how long the token is valid")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *sub == "" {
		return fmt.Errorf("token: --sub is required")
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	token, err := auth.Sign(cfg.Auth, *sub, *ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, token)
	return nil
}
