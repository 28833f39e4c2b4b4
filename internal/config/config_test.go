package config_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/todoapi/todoapi/internal/config"
)

const (
	secret       = "config-test-secret-config-test-s"
	otherSecret  = "another-secret-another-secret-an"
	cursorSecret = "cursor-secret-cursor-secret-curs"
)

func getenv(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

func load(t *testing.T, env map[string]string) config.Config {
	t.Helper()
	cfg, err := config.Load(getenv(env))
	if err != nil {
		t.Fatalf("%v: %v", env, err)
	}
	return cfg
}

func TestLoadDefaults(t *testing.T) {
	cfg := load(t, map[string]string{"JWT_SECRET": secret})
	if cfg.ListenAddr != "127.0.0.1:8080" || cfg.Auth.Leeway != 30*time.Second || cfg.LogLevel != slog.LevelInfo ||
		cfg.DebugAddr != "" || cfg.MetricsAddr != "" || len(cfg.CORSOrigins) != 0 || string(cfg.Auth.Secret) != secret {
		t.Errorf("defaults: %+v", cfg)
	}
}

func TestLoadReadsEverySetting(t *testing.T) {
	cfg := load(t, map[string]string{
		"DATABASE_URL": "postgres://api@db/todo", "LISTEN_ADDR": ":9000", "DEBUG_ADDR": "127.0.0.1:6060",
		"METRICS_ADDR": "127.0.0.1:9090", "JWT_JWKS_URL": "https://a.example/jwks, http://b.example/jwks",
		"JWT_ISSUER": "https://a.example", "JWT_AUDIENCE": "todo", "JWT_LEEWAY": "1m", "LOG_LEVEL": "debug",
		"CORS_ALLOWED_ORIGINS": "https://app.example.com http://localhost:3000", "CURSOR_SECRET": cursorSecret,
	})
	if cfg.DatabaseURL != "postgres://api@db/todo" || cfg.ListenAddr != ":9000" || cfg.DebugAddr != "127.0.0.1:6060" ||
		cfg.MetricsAddr != "127.0.0.1:9090" || strings.Join(cfg.Auth.JWKSURLs, " ") != "https://a.example/jwks http://b.example/jwks" ||
		cfg.Auth.Issuer != "https://a.example" || cfg.Auth.Audience != "todo" || cfg.Auth.Leeway != time.Minute ||
		cfg.LogLevel != slog.LevelDebug || len(cfg.CORSOrigins) != 2 || string(cfg.CursorSecret) != cursorSecret ||
		cfg.Auth.Secret != nil {
		t.Errorf("%+v", cfg)
	}
}

// TestCursorSecretDefault: without CURSOR_SECRET the cursor key is derived
// from JWT_SECRET (so `make run` needs nothing more), is not the JWT secret
// itself, and differs with the JWT secret; CURSOR_SECRET wins when set.
func TestCursorSecretDefault(t *testing.T) {
	derived := load(t, map[string]string{"JWT_SECRET": secret}).CursorSecret
	if len(derived) < 32 || bytes.Contains(derived, []byte(secret)) {
		t.Errorf("derived cursor secret %x", derived)
	}
	if again := load(t, map[string]string{"JWT_SECRET": secret}).CursorSecret; !bytes.Equal(again, derived) {
		t.Error("the derived cursor secret changes between loads: cursors would not survive a restart")
	}
	if other := load(t, map[string]string{"JWT_SECRET": otherSecret}).CursorSecret; bytes.Equal(other, derived) {
		t.Error("two JWT secrets derive the same cursor secret")
	}
	set := load(t, map[string]string{"JWT_SECRET": secret, "CURSOR_SECRET": cursorSecret}).CursorSecret
	if string(set) != cursorSecret {
		t.Errorf("CURSOR_SECRET not used: %x", set)
	}
}

// TestLoadRefuses: every setting Load rejects, each named in the error.
func TestLoadRefuses(t *testing.T) {
	jwks := "https://id.example/jwks"
	cases := map[string]struct {
		env  map[string]string
		want string
	}{
		"no key source":                        {map[string]string{}, "set JWT_JWKS_URL"},
		"JWT_SECRET short":                     {map[string]string{"JWT_SECRET": secret[:31]}, "JWT_SECRET must be at least 32 bytes"},
		"JWT_JWKS_URL file":                    {map[string]string{"JWT_JWKS_URL": "file:///etc/passwd", "CURSOR_SECRET": cursorSecret}, `JWT_JWKS_URL: "file:///etc/passwd"`},
		"JWT_JWKS_URL no host":                 {map[string]string{"JWT_JWKS_URL": "https://", "CURSOR_SECRET": cursorSecret}, `JWT_JWKS_URL: "https://"`},
		"JWT_JWKS_URL unparsable":              {map[string]string{"JWT_JWKS_URL": "http://[::1", "CURSOR_SECRET": cursorSecret}, `JWT_JWKS_URL: "http://[::1"`},
		"JWT_LEEWAY not a duration":            {map[string]string{"JWT_SECRET": secret, "JWT_LEEWAY": "soon"}, "JWT_LEEWAY:"},
		"JWT_LEEWAY negative":                  {map[string]string{"JWT_SECRET": secret, "JWT_LEEWAY": "-1s"}, "JWT_LEEWAY must be between 0 and 1m0s"},
		"JWT_LEEWAY over a minute":             {map[string]string{"JWT_SECRET": secret, "JWT_LEEWAY": "61s"}, "JWT_LEEWAY must be between 0 and 1m0s"},
		"LOG_LEVEL unknown":                    {map[string]string{"JWT_SECRET": secret, "LOG_LEVEL": "loud"}, "LOG_LEVEL:"},
		"CORS origin *":                        {map[string]string{"JWT_SECRET": secret, "CORS_ALLOWED_ORIGINS": "*"}, `CORS_ALLOWED_ORIGINS: "*"`},
		"CORS origin null":                     {map[string]string{"JWT_SECRET": secret, "CORS_ALLOWED_ORIGINS": "null"}, `CORS_ALLOWED_ORIGINS: "null"`},
		"CORS origin with a path":              {map[string]string{"JWT_SECRET": secret, "CORS_ALLOWED_ORIGINS": "https://app.example.com/x"}, `CORS_ALLOWED_ORIGINS: "https://app.example.com/x"`},
		"CORS origin not http(s)":              {map[string]string{"JWT_SECRET": secret, "CORS_ALLOWED_ORIGINS": "ftp://app.example.com"}, `CORS_ALLOWED_ORIGINS: "ftp://app.example.com"`},
		"CORS origin https://*":                {map[string]string{"JWT_SECRET": secret, "CORS_ALLOWED_ORIGINS": "https://*"}, `CORS_ALLOWED_ORIGINS: "https://*"`},
		"CORS origin with a wildcard":          {map[string]string{"JWT_SECRET": secret, "CORS_ALLOWED_ORIGINS": "https://*.example.org"}, `CORS_ALLOWED_ORIGINS: "https://*.example.org"`},
		"CORS origin with a query":             {map[string]string{"JWT_SECRET": secret, "CORS_ALLOWED_ORIGINS": "https://app.example.com?x=1"}, `CORS_ALLOWED_ORIGINS: "https://app.example.com?x=1"`},
		"CORS origin with a user":              {map[string]string{"JWT_SECRET": secret, "CORS_ALLOWED_ORIGINS": "https://u:p@app.example.com"}, `CORS_ALLOWED_ORIGINS: "https://u:p@app.example.com"`},
		"CORS origin with a fragment":          {map[string]string{"JWT_SECRET": secret, "CORS_ALLOWED_ORIGINS": "https://app.example.com#f"}, `CORS_ALLOWED_ORIGINS: "https://app.example.com#f"`},
		"CURSOR_SECRET short":                  {map[string]string{"JWT_SECRET": secret, "CURSOR_SECRET": cursorSecret[:31]}, "CURSOR_SECRET must be at least 32 bytes"},
		"CURSOR_SECRET missing with JWKS only": {map[string]string{"JWT_JWKS_URL": jwks}, "CURSOR_SECRET must be set without JWT_SECRET"},
	}
	for name, c := range cases {
		if _, err := config.Load(getenv(c.env)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one that says %q", name, err, c.want)
		}
	}
	// Every problem is reported at once, not one per start.
	_, err := config.Load(getenv(map[string]string{"JWT_SECRET": "short", "LOG_LEVEL": "loud", "JWT_LEEWAY": "2m"}))
	for _, want := range []string{"JWT_SECRET", "LOG_LEVEL", "JWT_LEEWAY"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("joined error %v lacks %s", err, want)
		}
	}
}
