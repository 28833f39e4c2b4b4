// Package config reads the service's settings from the environment (12-factor).
// Only cmd calls it; everything else is handed the values it needs.
package config

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/todoapi/todoapi/internal/auth"
	"github.com/todoapi/todoapi/internal/event"
	"github.com/todoapi/todoapi/internal/todo"
)

// MaxLeeway bounds JWT_LEEWAY: more clock skew than this hides real expiry.
const MaxLeeway = time.Minute

// Config is every setting of `todoapi serve` and `todoapi token`.
type Config struct {
	DatabaseURL string      // DATABASE_URL: the API's login role, granted todo_app
	ListenAddr  string      // LISTEN_ADDR, default 127.0.0.1:8080
	Auth        auth.Config // JWT_SECRET, JWT_JWKS_URL, JWT_ISSUER, JWT_AUDIENCE, JWT_LEEWAY (default 30s)
	LogLevel    slog.Level  // LOG_LEVEL: debug, info (default), warn, error
	DebugAddr   string      // DEBUG_ADDR: where to serve pprof; empty (default) for nowhere
	MetricsAddr string      // METRICS_ADDR: serve /metrics, /healthz, /readyz there instead of on LISTEN_ADDR
	CORSOrigins []string    // CORS_ALLOWED_ORIGINS: browser origins allowed to call the API
	// CursorSecret (CURSOR_SECRET) keys the HMAC of page cursors; by default
	// it is derived from JWT_SECRET.
	CursorSecret []byte
	// EVENTS_POLL_INTERVAL (150ms), EVENTS_RETENTION (24h), EVENTS_HEARTBEAT
	// (15s), EVENTS_STREAMS_PER_USER (5), EVENTS_BUFFER (256): live updates
	Events event.Config
}

// cursorLabel separates the cursor key derived from JWT_SECRET from any other
// use of that secret.
const cursorLabel = "todoapi page cursor key v1"

// Load reads the configuration through getenv and checks it.
func Load(getenv func(string) string) (Config, error) {
	cfg := Config{
		DatabaseURL: getenv("DATABASE_URL"),
		ListenAddr:  getenv("LISTEN_ADDR"),
		DebugAddr:   getenv("DEBUG_ADDR"),
		MetricsAddr: getenv("METRICS_ADDR"),
		Auth: auth.Config{
			JWKSURLs: strings.FieldsFunc(getenv("JWT_JWKS_URL"), func(r rune) bool { return r == ',' || unicode.IsSpace(r) }),
			Issuer:   getenv("JWT_ISSUER"),
			Audience: getenv("JWT_AUDIENCE"),
			Leeway:   30 * time.Second,
		},
	}
	if cfg.ListenAddr == "" {
		cfg.ListenAddr = "127.0.0.1:8080"
	}
	var errs []error
	if v := getenv("JWT_LEEWAY"); v != "" {
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("JWT_LEEWAY: %w", err))
		case d < 0 || d > MaxLeeway:
			errs = append(errs, fmt.Errorf("JWT_LEEWAY must be between 0 and %s, got %s", MaxLeeway, d))
		}
		cfg.Auth.Leeway = d
	}
	cfg.CORSOrigins = strings.FieldsFunc(getenv("CORS_ALLOWED_ORIGINS"), func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	for _, o := range cfg.CORSOrigins {
		// Exactly scheme://host[:port], as a browser's Origin header is: the
		// CORS library would read a * anywhere as a wildcard.
		if u, err := url.Parse(o); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
			strings.Contains(o, "*") || o != u.Scheme+"://"+u.Host {
			errs = append(errs, fmt.Errorf("CORS_ALLOWED_ORIGINS: %q is not an origin like https://app.example.com (no *, no null)", o))
		}
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
	}{{"EVENTS_POLL_INTERVAL", &cfg.Events.PollInterval}, {"EVENTS_RETENTION", &cfg.Events.Retention}, {"EVENTS_HEARTBEAT", &cfg.Events.Heartbeat}} {
		if v := getenv(d.name); v != "" {
			var err error
			if *d.v, err = time.ParseDuration(v); err != nil || *d.v <= 0 {
				errs = append(errs, fmt.Errorf("%s must be a positive duration like 150ms, got %q", d.name, v))
			}
		}
	}
	for _, n := range []struct {
		name string
		v    *int
	}{{"EVENTS_STREAMS_PER_USER", &cfg.Events.StreamsPerUser}, {"EVENTS_BUFFER", &cfg.Events.Buffer}} {
		if v := getenv(n.name); v != "" {
			var err error
			if *n.v, err = strconv.Atoi(v); err != nil || *n.v <= 0 {
				errs = append(errs, fmt.Errorf("%s must be a positive number, got %q", n.name, v))
			}
		}
	}
	if v := getenv("LOG_LEVEL"); v != "" {
		if err := cfg.LogLevel.UnmarshalText([]byte(v)); err != nil {
			errs = append(errs, fmt.Errorf("LOG_LEVEL: %w", err))
		}
	}
	if secret := getenv("JWT_SECRET"); secret != "" {
		cfg.Auth.Secret = []byte(secret)
		if len(secret) < auth.MinSecretLen {
			errs = append(errs, fmt.Errorf("JWT_SECRET must be at least %d bytes (e.g. `openssl rand -base64 32`)", auth.MinSecretLen))
		}
	}
	for _, u := range cfg.Auth.JWKSURLs {
		if parsed, err := url.Parse(u); err != nil || (parsed.Scheme != "https" && parsed.Scheme != "http") || parsed.Host == "" {
			errs = append(errs, fmt.Errorf("JWT_JWKS_URL: %q is not an http(s) URL", u))
		}
	}
	switch secret := getenv("CURSOR_SECRET"); {
	case secret != "":
		cfg.CursorSecret = []byte(secret)
		if len(secret) < todo.MinCursorSecretLen {
			errs = append(errs, fmt.Errorf("CURSOR_SECRET must be at least %d bytes (e.g. `openssl rand -base64 32`)", todo.MinCursorSecretLen))
		}
	case cfg.Auth.Secret != nil:
		mac := hmac.New(sha256.New, cfg.Auth.Secret)
		mac.Write([]byte(cursorLabel))
		cfg.CursorSecret = mac.Sum(nil)
	case len(cfg.Auth.JWKSURLs) > 0:
		errs = append(errs, fmt.Errorf("CURSOR_SECRET must be set without JWT_SECRET: at least %d random bytes, "+
			"the same on every instance (e.g. `openssl rand -base64 32`)", todo.MinCursorSecretLen))
	}
	if cfg.Auth.Secret == nil && len(cfg.Auth.JWKSURLs) == 0 {
		errs = append(errs, errors.New("set JWT_JWKS_URL (e.g. Better Auth's <base>/api/auth/jwks) and/or JWT_SECRET"))
	}
	return cfg, errors.Join(errs...)
}
