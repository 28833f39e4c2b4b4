package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/todoapi/todoapi/internal/auth"
	"github.com/todoapi/todoapi/internal/auth/authtest"
)

func jwksVerifier(t testing.TB, idp *authtest.IdP, withSecret bool, unknownKID time.Duration) *auth.Verifier {
	t.Helper()
	cfg := auth.Config{JWKSURLs: []string{idp.URL()}, Issuer: authtest.Issuer, Audience: authtest.Audience,
		Leeway: 30 * time.Second, UnknownKIDInterval: unknownKID}
	if withSecret {
		cfg.Secret = secret
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	v, err := auth.NewVerifier(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestJWKSAcceptsEachAlgorithm(t *testing.T) {
	idp := authtest.NewIdP(t)
	v := jwksVerifier(t, idp, false, time.Minute)
	for _, kid := range []string{"ed-1", "rsa-1", "ec-1"} {
		if sub, err := v.Verify(t.Context(), idp.Sign(t, kid, authtest.Claims("user-"+kid), nil)); err != nil || sub != "user-"+kid {
			t.Errorf("%s: (%q, %v)", kid, sub, err)
		}
	}
	// Better Auth sends no typ; some providers send at+jwt.
	for _, typ := range []any{nil, "JWT", "at+jwt"} {
		if _, err := v.Verify(t.Context(), idp.Sign(t, "ed-1", authtest.Claims("u"), map[string]any{"typ": typ})); err != nil {
			t.Errorf("typ %v: %v", typ, err)
		}
	}
	if err := v.Ready(t.Context()); err != nil {
		t.Errorf("ready: %v", err)
	}
}

// TestJWKSRefusesAttacks: every known attack is refused, with JWKS alone and
// with a secret too, and the attacker's server is never contacted.
func TestJWKSRefusesAttacks(t *testing.T) {
	idp := authtest.NewIdP(t)
	attacker := authtest.NewAttacker(t)
	attacks := authtest.Attacks(t, idp, secret, attacker.Server.URL)
	for _, withSecret := range []bool{false, true} {
		v := jwksVerifier(t, idp, withSecret, time.Minute)
		for name, tok := range attacks {
			sub, err := v.Verify(t.Context(), tok)
			if !errors.Is(err, auth.ErrInvalid) && !errors.Is(err, auth.ErrExpired) {
				t.Errorf("secret=%t %s: (%q, %v), want refused", withSecret, name, sub, err)
			}
		}
	}
	if n := attacker.Hits.Load(); n != 0 {
		t.Errorf("attacker contacted %d times", n)
	}
}

// TestSecretOnlyRefusesJWKSAlgorithms: without JWKS URLs no asymmetric token
// passes, and with JWKS only no HS256 token does.
func TestAlgorithmsFollowKeySources(t *testing.T) {
	idp := authtest.NewIdP(t)
	secretOnly, err := auth.NewVerifier(t.Context(), auth.Config{Secret: secret, Issuer: authtest.Issuer, Audience: authtest.Audience})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := secretOnly.Verify(t.Context(), idp.Sign(t, "ed-1", authtest.Claims("a"), nil)); !errors.Is(err, auth.ErrInvalid) {
		t.Errorf("EdDSA token with secret only: %v", err)
	}
	hs, err := auth.Sign(auth.Config{Secret: secret, Issuer: authtest.Issuer, Audience: authtest.Audience}, "a", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jwksVerifier(t, idp, false, time.Minute).Verify(t.Context(), hs); !errors.Is(err, auth.ErrInvalid) {
		t.Errorf("HS256 token with JWKS only: %v", err)
	}
	if sub, err := jwksVerifier(t, idp, true, time.Minute).Verify(t.Context(), hs); err != nil || sub != "a" {
		t.Errorf("HS256 token with both sources: (%q, %v)", sub, err)
	}
}

// TestJWKSRedirectNotFollowed: a JWKS URL that redirects, even to the real
// keys, yields no keys: a redirect could lead the fetch anywhere.
func TestJWKSRedirectNotFollowed(t *testing.T) {
	idp := authtest.NewIdP(t)
	redirect := httptest.NewServer(http.RedirectHandler(idp.URL(), http.StatusFound))
	t.Cleanup(redirect.Close)
	v, err := auth.NewVerifier(t.Context(), auth.Config{JWKSURLs: []string{redirect.URL}, UnknownKIDInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Ready(t.Context()); err == nil {
		t.Error("ready with keys fetched through a redirect")
	}
	if _, err := v.Verify(t.Context(), idp.Sign(t, "ed-1", authtest.Claims("a"), nil)); !errors.Is(err, auth.ErrInvalid) {
		t.Errorf("token accepted with keys fetched through a redirect: %v", err)
	}
	if n := idp.Fetches.Load(); n != 0 {
		t.Errorf("the redirect was followed: %d fetches at its target", n)
	}
}

func TestKeyRotation(t *testing.T) {
	idp := authtest.NewIdP(t)
	v := jwksVerifier(t, idp, false, time.Hour)
	before := idp.Fetches.Load()

	idp.AddKey(t, "ed-2", "EdDSA")
	if _, err := v.Verify(t.Context(), idp.Sign(t, "ed-2", authtest.Claims("a"), nil)); err != nil {
		t.Fatalf("token of the new key: %v", err)
	}
	if got := idp.Fetches.Load() - before; got != 1 {
		t.Errorf("%d fetches for the new kid, want 1", got)
	}
	if _, err := v.Verify(t.Context(), idp.Sign(t, "ed-1", authtest.Claims("a"), nil)); err != nil {
		t.Errorf("old key, still published: %v", err)
	}

	// A burst of unknown kids within one rate window: no more fetches.
	idp.AddKey(t, "ed-3", "EdDSA")
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			tok := idp.Sign(t, "ed-1", authtest.Claims("a"), map[string]any{"kid": fmt.Sprintf("unknown-%d", i)})
			if _, err := v.Verify(context.Background(), tok); err == nil {
				t.Error("unknown kid accepted")
			}
		})
	}
	wg.Wait()
	if got := idp.Fetches.Load() - before; got != 1 {
		t.Errorf("%d fetches after a burst of unknown kids, want still 1", got)
	}
}

func TestRevokedKeyIsRefusedAfterRefetch(t *testing.T) {
	idp := authtest.NewIdP(t)
	v := jwksVerifier(t, idp, false, time.Millisecond)
	old := idp.Sign(t, "rsa-1", authtest.Claims("a"), nil)
	idp.RemoveKey("rsa-1")
	idp.AddKey(t, "rsa-2", "RS256")
	if _, err := v.Verify(t.Context(), idp.Sign(t, "rsa-2", authtest.Claims("a"), nil)); err != nil {
		t.Fatalf("new key: %v", err)
	}
	if _, err := v.Verify(t.Context(), old); err == nil {
		t.Error("token of a key no longer published accepted")
	}
}

// TestCachedTokenRefusedOnceItsKeyIsGone: a token verified (and so
// remembered) before its key was removed from the JWKS, or replaced under
// the same kid, is refused from the refetch that notices it on, like a token
// never seen.
func TestCachedTokenRefusedOnceItsKeyIsGone(t *testing.T) {
	for _, replace := range []bool{false, true} {
		idp := authtest.NewIdP(t)
		v := jwksVerifier(t, idp, false, time.Millisecond)
		old := idp.Sign(t, "ed-1", authtest.Claims("a"), nil)
		for range 2 { // the second from the cache
			if _, err := v.Verify(t.Context(), old); err != nil {
				t.Fatalf("before: %v", err)
			}
		}
		idp.RemoveKey("ed-1")
		if replace {
			idp.AddKey(t, "ed-1", "EdDSA") // another key, the same kid
		}
		idp.AddKey(t, "ed-2", "EdDSA")
		// A token of the new kid makes the verifier refetch the set.
		if _, err := v.Verify(t.Context(), idp.Sign(t, "ed-2", authtest.Claims("a"), nil)); err != nil {
			t.Fatalf("new key: %v", err)
		}
		if _, err := v.Verify(t.Context(), old); err == nil {
			t.Errorf("replaced %v: a remembered token of a key no longer published accepted", replace)
		}
	}
}

// TestJWKSFailuresKeepCachedKeys: down, slow, garbage or oversized answers
// never drop the cached keys, never let an unverifiable token through, and a
// request never waits long on the endpoint.
func TestJWKSFailuresKeepCachedKeys(t *testing.T) {
	for _, mode := range []authtest.Mode{authtest.Down, authtest.Slow, authtest.Garbage, authtest.Huge} {
		idp := authtest.NewIdP(t)
		v := jwksVerifier(t, idp, false, time.Millisecond)
		idp.SetMode(mode)
		idp.AddKey(t, "ed-new", "EdDSA")
		start := time.Now()
		if _, err := v.Verify(t.Context(), idp.Sign(t, "ed-new", authtest.Claims("a"), nil)); err == nil {
			t.Errorf("mode %d: a key that could not be fetched was accepted", mode)
		}
		if waited := time.Since(start); waited > 5*time.Second {
			t.Errorf("mode %d: a request waited %s on the JWKS endpoint", mode, waited)
		}
		time.Sleep(5 * time.Millisecond)
		if _, err := v.Verify(t.Context(), idp.Sign(t, "ed-1", authtest.Claims("a"), nil)); err != nil {
			t.Errorf("mode %d: cached key stopped working: %v", mode, err)
		}
	}
}

func TestJWKSDownAtBootThenUp(t *testing.T) {
	idp := authtest.NewIdP(t)
	idp.SetMode(authtest.Down)
	v := jwksVerifier(t, idp, false, time.Millisecond)
	if err := v.Ready(t.Context()); err == nil {
		t.Fatal("ready without keys")
	}
	if _, err := v.Verify(t.Context(), idp.Sign(t, "ed-1", authtest.Claims("a"), map[string]any{"kid": nil})); err == nil {
		t.Fatal("token accepted without keys")
	}
	idp.SetMode(authtest.Up)
	time.Sleep(5 * time.Millisecond)
	if err := v.Ready(t.Context()); err != nil {
		t.Fatalf("not ready once the JWKS is up: %v", err)
	}
	if _, err := v.Verify(t.Context(), idp.Sign(t, "ed-1", authtest.Claims("a"), nil)); err != nil {
		t.Fatalf("token refused once the JWKS is up: %v", err)
	}
}

func BenchmarkVerifyEdDSA(b *testing.B) {
	idp := authtest.NewIdP(b)
	v := jwksVerifier(b, idp, false, time.Minute)
	tok := idp.Sign(b, "ed-1", authtest.Claims("user-1"), nil)
	for b.Loop() {
		if _, err := v.Verify(b.Context(), tok); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCacheNeverOutlivesExpiry: a verified token served from the cache is
// still refused once its exp (plus leeway) has passed.
func TestCacheNeverOutlivesExpiry(t *testing.T) {
	idp := authtest.NewIdP(t)
	v, err := auth.NewVerifier(t.Context(), auth.Config{JWKSURLs: []string{idp.URL()}})
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Second).Truncate(time.Second).Add(time.Second)
	claims := authtest.Claims("alice")
	claims["exp"] = exp.Unix()
	tok := idp.Sign(t, "ed-1", claims, nil)
	for range 3 {
		if _, err := v.Verify(t.Context(), tok); err != nil {
			t.Fatalf("before exp: %v", err)
		}
	}
	time.Sleep(time.Until(exp) + 50*time.Millisecond)
	if _, err := v.Verify(t.Context(), tok); !errors.Is(err, auth.ErrExpired) {
		t.Fatalf("after exp: %v, want ErrExpired", err)
	}
}

// BenchmarkVerifyEdDSAUncached verifies a different token each time: the cost
// of a token's first request.
func BenchmarkVerifyEdDSAUncached(b *testing.B) {
	idp := authtest.NewIdP(b)
	v := jwksVerifier(b, idp, false, time.Minute)
	tokens := make([]string, 50000) // more than the cache holds
	for i := range tokens {
		tokens[i] = idp.Sign(b, "ed-1", authtest.Claims(fmt.Sprintf("user-%d", i)), nil)
	}
	i := 0
	for b.Loop() {
		if _, err := v.Verify(b.Context(), tokens[i%len(tokens)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
