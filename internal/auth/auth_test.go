package auth_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/golang-jwt/jwt/v5"

	"github.com/todoapi/todoapi/internal/auth"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

func verifier(t *testing.T, cfg auth.Config) *auth.Verifier {
	t.Helper()
	cfg.Secret = secret
	v, err := auth.NewVerifier(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func sign(t *testing.T, header map[string]any, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func valid() jwt.MapClaims {
	return jwt.MapClaims{"sub": "user-1", "exp": time.Now().Add(time.Minute).Unix()}
}

func with(c jwt.MapClaims, k string, v any) jwt.MapClaims {
	c[k] = v
	return c
}

func TestNewVerifierRefusesShortSecret(t *testing.T) {
	if _, err := auth.NewVerifier(t.Context(), auth.Config{Secret: secret[:31]}); err == nil {
		t.Fatal("31-byte secret accepted")
	}
	if _, err := auth.NewVerifier(t.Context(), auth.Config{}); err == nil {
		t.Fatal("no key source accepted")
	}
}

func TestVerifyAccepts(t *testing.T) {
	v := verifier(t, auth.Config{Issuer: "https://id.example", Audience: "todo", Leeway: 30 * time.Second})
	cases := map[string]string{
		"iss and aud":         sign(t, nil, with(with(valid(), "iss", "https://id.example"), "aud", "todo")),
		"aud array with ours": sign(t, nil, with(with(valid(), "iss", "https://id.example"), "aud", []string{"other", "todo"})),
		"expired within leeway": sign(t, nil, jwt.MapClaims{"sub": "user-1", "iss": "https://id.example", "aud": "todo",
			"exp": time.Now().Add(-10 * time.Second).Unix()}),
		"nbf and iat numbers": sign(t, nil, with(with(with(with(valid(), "iss", "https://id.example"), "aud", "todo"),
			"nbf", time.Now().Unix()), "iat", float64(time.Now().Unix())+0.5)),
		"another claim named EXP": sign(t, nil, with(with(with(valid(), "iss", "https://id.example"), "aud", "todo"), "EXP", "x")),
		"typ at+jwt":              sign(t, map[string]any{"typ": "at+jwt"}, with(with(valid(), "iss", "https://id.example"), "aud", "todo")),
	}
	for name, tok := range cases {
		if sub, err := v.Verify(t.Context(), tok); err != nil || sub != "user-1" {
			t.Errorf("%s: %q, %v", name, sub, err)
		}
	}
}

func TestVerifyRefuses(t *testing.T) {
	v := verifier(t, auth.Config{Issuer: "https://id.example", Audience: "todo", Leeway: 30 * time.Second})
	ok := func() jwt.MapClaims { return with(with(valid(), "iss", "https://id.example"), "aud", "todo") }
	cases := map[string]struct {
		token string
		want  error
	}{
		"empty":                              {"", auth.ErrMissing},
		"expired beyond leeway":              {sign(t, nil, with(ok(), "exp", time.Now().Add(-time.Minute).Unix())), auth.ErrExpired},
		"wrong iss":                          {sign(t, nil, with(ok(), "iss", "https://evil.example")), auth.ErrInvalid},
		"missing iss":                        {sign(t, nil, with(valid(), "aud", "todo")), auth.ErrInvalid},
		"wrong aud":                          {sign(t, nil, with(ok(), "aud", "other")), auth.ErrInvalid},
		"aud array without ours":             {sign(t, nil, with(ok(), "aud", []string{"a", "b"})), auth.ErrInvalid},
		"missing aud":                        {sign(t, nil, with(valid(), "iss", "https://id.example")), auth.ErrInvalid},
		"typ not JWT":                        {sign(t, map[string]any{"typ": "JWE"}, ok()), auth.ErrInvalid},
		"crit":                               {sign(t, map[string]any{"crit": []string{"exp"}}, ok()), auth.ErrInvalid},
		"sub with newline":                   {sign(t, nil, with(ok(), "sub", "a\nb")), auth.ErrInvalid},
		"sub me (names the caller in paths)": {sign(t, nil, with(ok(), "sub", "me")), auth.ErrInvalid},
		"sub not a string":                   {sign(t, nil, with(ok(), "sub", 42)), auth.ErrInvalid},
		"sub 256 bytes":                      {sign(t, nil, with(ok(), "sub", strings.Repeat("é", 128))), auth.ErrInvalid},
		// RFC 7519 NumericDate is a JSON number; golang-jwt alone takes "123".
		"exp a string": {sign(t, nil, with(ok(), "exp", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))), auth.ErrInvalid},
		"nbf a string": {sign(t, nil, with(ok(), "nbf", strconv.FormatInt(time.Now().Unix(), 10))), auth.ErrInvalid},
		"iat a string": {sign(t, nil, with(ok(), "iat", strconv.FormatInt(time.Now().Unix(), 10))), auth.ErrInvalid},
		"exp null":     {sign(t, nil, with(ok(), "exp", nil)), auth.ErrInvalid},
		"nbf true":     {sign(t, nil, with(ok(), "nbf", true)), auth.ErrInvalid},
		// Claim names are case-sensitive: eXp is not exp.
		"eXp, no exp": {sign(t, nil, with(with(ok(), "exp", nil), "eXp", time.Now().Add(time.Hour).Unix())), auth.ErrInvalid},
	}
	for name, c := range cases {
		if sub, err := v.Verify(t.Context(), c.token); !errors.Is(err, c.want) {
			t.Errorf("%s: (%q, %v), want %v", name, sub, err, c.want)
		}
	}
}

func TestSignRoundTrip(t *testing.T) {
	cfg := auth.Config{Secret: secret, Issuer: "i", Audience: "a"}
	tok, err := auth.Sign(cfg, "bob", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := auth.NewVerifier(t.Context(), cfg)
	if sub, err := v.Verify(t.Context(), tok); err != nil || sub != "bob" {
		t.Fatalf("%q, %v", sub, err)
	}
}

// FuzzVerify: no input makes Verify panic or accept an unsigned token.
func FuzzVerify(f *testing.F) {
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.")
	f.Add("a.b.c")
	f.Add("....")
	v, _ := auth.NewVerifier(context.Background(), auth.Config{Secret: secret})
	f.Fuzz(func(t *testing.T, tok string) {
		if sub, err := v.Verify(t.Context(), tok); err == nil {
			t.Fatalf("accepted %q as %q", tok, sub)
		}
	})
}

// FuzzVerifyClaims: any claims payload, correctly signed with the secret,
// is either refused with ErrInvalid or ErrExpired, or accepted with a valid
// subject and exp, nbf and iat (when present) that are JSON numbers. No
// payload makes Verify panic.
func FuzzVerifyClaims(f *testing.F) {
	now := time.Now().Unix()
	for _, seed := range []string{
		fmt.Sprintf(`{"sub":"alice","exp":%d}`, now+3600),
		fmt.Sprintf(`{"sub":"alice","exp":"%d"}`, now+3600),
		fmt.Sprintf(`{"sub":"alice","exp":%d,"nbf":"%d","iat":"%d"}`, now+3600, now, now),
		fmt.Sprintf(`{"sub":"alice","exp":%d,"iat":null,"nbf":true}`, now+3600),
		fmt.Sprintf(`{"sub":"alice","exp":%d.5,"nbf":-1e300,"iat":1e400}`, now+3600),
		`{"sub":"alice","exp":1e300}`,
		`{"sub":"alice","exp":-9223372036854775808}`,
		fmt.Sprintf(`{"sub":"a\u0000b","exp":%d}`, now+3600),
		fmt.Sprintf(`{"sub":42,"exp":%d}`, now+3600),
		fmt.Sprintf(`{"sub":"alice","EXP":"x","exp":%d}`, now+3600),
		fmt.Sprintf(`{"sub":"alice","exp":%d,"exp":"%d"}`, now+3600, now+3600),
		fmt.Sprintf(`{"sub":"alice","exp":%d,"aud":[1]}`, now+3600),
		`[]`, `null`, `"x"`, `{`,
	} {
		f.Add([]byte(seed))
	}
	v, err := auth.NewVerifier(context.Background(), auth.Config{Secret: secret, Leeway: time.Second})
	if err != nil {
		f.Fatal(err)
	}
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		signing := header + "." + base64.RawURLEncoding.EncodeToString(payload)
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte(signing))
		sub, err := v.Verify(t.Context(), signing+"."+base64.RawURLEncoding.EncodeToString(mac.Sum(nil)))
		if err != nil {
			if !errors.Is(err, auth.ErrInvalid) && !errors.Is(err, auth.ErrExpired) {
				t.Fatalf("error %v is neither ErrInvalid nor ErrExpired", err)
			}
			return
		}
		if sub == "" || len(sub) > auth.MaxSubjectLen || strings.ContainsFunc(sub, unicode.IsControl) {
			t.Fatalf("accepted subject %q", sub)
		}
		var claims map[string]any
		dec := json.NewDecoder(bytes.NewReader(payload))
		dec.UseNumber()
		if err := dec.Decode(&claims); err != nil {
			t.Fatalf("accepted a payload that is not a JSON object: %v", err)
		}
		if _, ok := claims["exp"]; !ok {
			t.Fatal("accepted without exp")
		}
		for _, name := range []string{"exp", "nbf", "iat"} {
			if v, ok := claims[name]; ok {
				if _, number := v.(json.Number); !number {
					t.Fatalf("accepted %s = %#v, not a number", name, v)
				}
			}
		}
	})
}

func BenchmarkVerifyHS256(b *testing.B) {
	v, _ := auth.NewVerifier(b.Context(), auth.Config{Secret: secret})
	tok, _ := auth.Sign(auth.Config{Secret: secret}, "user-1", time.Hour)
	for b.Loop() {
		if _, err := v.Verify(b.Context(), tok); err != nil {
			b.Fatal(err)
		}
	}
}
