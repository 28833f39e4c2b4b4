package api_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/todoapi/todoapi/internal/api/apitest"
	"github.com/todoapi/todoapi/internal/auth"
	"github.com/todoapi/todoapi/internal/auth/authtest"
)

func signed(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestUnauthenticated401: every bad token is refused with 401, a Bearer
// challenge and a problem body, before any database connection is taken.
func TestUnauthenticated401(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	good := apitest.Token(t, "alice")
	parts := strings.Split(good, ".")
	now := time.Now()
	claims := func(extra jwt.MapClaims) jwt.MapClaims {
		c := jwt.MapClaims{"sub": "alice", "exp": now.Add(time.Hour).Unix()}
		for k, v := range extra {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	secret := apitest.Auth.Secret
	tamperedPayload := base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"bob","exp":9999999999}`))
	noneHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))

	cases := map[string]string{ // name -> Authorization header
		"missing":              "",
		"empty bearer":         "Bearer ",
		"basic scheme":         "Basic YWxpY2U6cHc=",
		"token without scheme": good,
		"expired":              "Bearer " + signed(t, jwt.SigningMethodHS256, secret, claims(jwt.MapClaims{"exp": now.Add(-time.Hour).Unix()})),
		"no exp":               "Bearer " + signed(t, jwt.SigningMethodHS256, secret, claims(jwt.MapClaims{"exp": nil})),
		"nbf in future":        "Bearer " + signed(t, jwt.SigningMethodHS256, secret, claims(jwt.MapClaims{"nbf": now.Add(time.Hour).Unix()})),
		"iat in future":        "Bearer " + signed(t, jwt.SigningMethodHS256, secret, claims(jwt.MapClaims{"iat": now.Add(time.Hour).Unix()})),
		"no sub":               "Bearer " + signed(t, jwt.SigningMethodHS256, secret, claims(jwt.MapClaims{"sub": nil})),
		"empty sub":            "Bearer " + signed(t, jwt.SigningMethodHS256, secret, claims(jwt.MapClaims{"sub": ""})),
		"sub too long":         "Bearer " + signed(t, jwt.SigningMethodHS256, secret, claims(jwt.MapClaims{"sub": strings.Repeat("a", 256)})),
		"sub with NUL":         "Bearer " + signed(t, jwt.SigningMethodHS256, secret, claims(jwt.MapClaims{"sub": "a\x00b"})),
		"wrong secret":         "Bearer " + signed(t, jwt.SigningMethodHS256, []byte("another-secret-another-secret-123"), claims(nil)),
		"HS512":                "Bearer " + signed(t, jwt.SigningMethodHS512, secret, claims(nil)),
		"alg none":             "Bearer " + signed(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims(nil)),
		"alg none, no sig":     "Bearer " + noneHeader + "." + parts[1] + ".",
		"tampered payload":     "Bearer " + parts[0] + "." + tamperedPayload + "." + parts[2],
		"tampered signature":   "Bearer " + parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2])),
		"two segments":         "Bearer " + parts[0] + "." + parts[1],
		"garbage":              "Bearer not.a.jwt",
	}
	before := e.DB.Stat().AcquireCount()
	for name, header := range cases {
		res := e.Call(t, http.MethodPost, "/v1/todos", "", `{"title":"x"}`, "Authorization", header)
		apitest.WantProblem(t, name, res, http.StatusUnauthorized)
		if !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: WWW-Authenticate %q", name, res.Header.Get("WWW-Authenticate"))
		}
	}
	if after := e.DB.Stat().AcquireCount(); after != before {
		t.Errorf("refused requests took %d database connections", after-before)
	}
	if n := e.RowCount(t); n != 0 {
		t.Errorf("refused requests wrote %d rows", n)
	}
	for _, q := range []string{"access_token", "token", "jwt"} {
		res := e.Call(t, http.MethodGet, "/v1/todos?"+q+"="+good, "", "")
		apitest.WantProblem(t, "token in the query string ("+q+")", res, http.StatusUnauthorized)
	}
	res := e.Call(t, http.MethodGet, "/v1/todos", "", "", "Authorization", cases["expired"])
	if got := res.Header.Get("WWW-Authenticate"); !strings.Contains(got, `error="invalid_token"`) {
		t.Errorf("expired: WWW-Authenticate %q lacks error=invalid_token", got)
	}
}

func TestEveryV1OperationNeedsAToken(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	id := "/v1/todos/00000000-0000-4000-8000-000000000000"
	for _, op := range [][2]string{{"GET", "/v1/todos"}, {"POST", "/v1/todos"}, {"GET", id}, {"PUT", id}, {"PATCH", id}, {"DELETE", id}} {
		apitest.WantProblem(t, op[0]+" "+op[1], e.Call(t, op[0], op[1], "", `{"title":"x"}`), http.StatusUnauthorized)
	}
}

// TestJWKSAttacks401: the attack tokens over HTTP, against an API that trusts
// a JWKS and a secret: each gets 401 problem+json, never a 500, no database
// connection, and the attacker's server hears nothing.
func TestJWKSAttacks401(t *testing.T) {
	t.Parallel()
	idp := authtest.NewIdP(t)
	attacker := authtest.NewAttacker(t)
	cfg := auth.Config{Secret: apitest.Auth.Secret, JWKSURLs: []string{idp.URL()}, Issuer: authtest.Issuer,
		Audience: authtest.Audience, Leeway: 30 * time.Second}
	e := apitest.NewWith(t, cfg)
	before := e.DB.Stat().AcquireCount()
	for name, tok := range authtest.Attacks(t, idp, apitest.Auth.Secret, attacker.Server.URL) {
		apitest.WantProblem(t, name, e.Call(t, http.MethodPost, "/v1/todos", tok, `{"title":"x"}`), http.StatusUnauthorized)
	}
	if after := e.DB.Stat().AcquireCount(); after != before {
		t.Errorf("refused requests took %d database connections", after-before)
	}
	if n := attacker.Hits.Load(); n != 0 {
		t.Errorf("attacker contacted %d times", n)
	}
	for _, kid := range []string{"ed-1", "rsa-1", "ec-1"} {
		res := e.Call(t, http.MethodPost, "/v1/todos", idp.Sign(t, kid, authtest.Claims("alice"), nil), `{"title":"x"}`)
		if res.Status != http.StatusCreated {
			t.Errorf("valid %s token: %d %s", kid, res.Status, res.Body)
		}
	}
}
