// Package authtest provides a fake identity provider for tests: it signs
// tokens with keys of its own and serves them as a JWKS on 127.0.0.1, and it
// can fail in the ways real ones do. It also lists the token attacks every
// verifier must refuse.
package authtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
)

// Mode is how the IdP's JWKS endpoint behaves.
type Mode int32

// The JWKS endpoint's behaviours.
const (
	Up      Mode = iota // serves the current keys
	Down                // 503
	Slow                // answers after 10 seconds
	Garbage             // 200 with a body that is not a JWKS
	Huge                // 200 with a 2 MB body
)

// Issuer and Audience are the claims the IdP's tokens carry by default.
const (
	Issuer   = "https://idp.test"
	Audience = "todoapi"
)

type key struct {
	private crypto.Signer
	method  jwt.SigningMethod
}

// IdP is a fake identity provider.
type IdP struct {
	Server  *httptest.Server
	Fetches atomic.Int64 // requests to the JWKS endpoint
	mode    atomic.Int32
	mu      sync.Mutex
	keys    map[string]key
}

// NewIdP starts an IdP with one key per algorithm family: kid "ed-1" (EdDSA),
// "rsa-1" (RS256) and "ec-1" (ES256).
func NewIdP(t testing.TB) *IdP {
	t.Helper()
	p := &IdP{keys: map[string]key{}}
	p.AddKey(t, "ed-1", "EdDSA")
	p.AddKey(t, "rsa-1", "RS256")
	p.AddKey(t, "ec-1", "ES256")
	p.Server = httptest.NewServer(http.HandlerFunc(p.serveJWKS))
	t.Cleanup(p.Server.Close)
	return p
}

// URL is the JWKS endpoint.
func (p *IdP) URL() string { return p.Server.URL + "/api/auth/jwks" }

// SetMode changes how the JWKS endpoint behaves.
func (p *IdP) SetMode(m Mode) { p.mode.Store(int32(m)) }

// AddKey creates a key for alg (EdDSA, RS256, ES256) and publishes it as kid.
func (p *IdP) AddKey(t testing.TB, kid, alg string) {
	t.Helper()
	var k key
	var err error
	switch alg {
	case "EdDSA":
		_, priv, e := ed25519.GenerateKey(rand.Reader)
		k, err = key{priv, jwt.SigningMethodEdDSA}, e
	case "RS256":
		priv, e := rsa.GenerateKey(rand.Reader, 2048)
		k, err = key{priv, jwt.SigningMethodRS256}, e
	case "ES256":
		priv, e := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		k, err = key{priv, jwt.SigningMethodES256}, e
	default:
		t.Fatalf("unknown alg %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keys[kid] = k
}

// RemoveKey stops publishing kid.
func (p *IdP) RemoveKey(kid string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.keys, kid)
}

// PublicKey is kid's public key.
func (p *IdP) PublicKey(kid string) crypto.PublicKey {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.keys[kid].private.Public()
}

// Claims are valid claims for sub: issuer, audience, issued now, expiring in 15 minutes.
func Claims(sub string) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{"sub": sub, "iss": Issuer, "aud": Audience, "iat": now.Unix(), "exp": now.Add(15 * time.Minute).Unix()}
}

// Sign signs claims with kid's key, adding header fields (a nil value removes one).
func (p *IdP) Sign(t testing.TB, kid string, claims jwt.MapClaims, header map[string]any) string {
	t.Helper()
	p.mu.Lock()
	k, ok := p.keys[kid]
	p.mu.Unlock()
	if !ok {
		t.Fatalf("no key %s", kid)
	}
	tok := jwt.NewWithClaims(k.method, claims)
	tok.Header["kid"] = kid
	for name, v := range header {
		if v == nil {
			delete(tok.Header, name)
		} else {
			tok.Header[name] = v
		}
	}
	s, err := tok.SignedString(k.private)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (p *IdP) serveJWKS(w http.ResponseWriter, r *http.Request) {
	p.Fetches.Add(1)
	switch Mode(p.mode.Load()) {
	case Down:
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	case Slow:
		select {
		case <-time.After(10 * time.Second):
		case <-r.Context().Done():
			return
		}
	case Garbage:
		w.Write([]byte(`{"keys": "not a list"`)) //nolint:errcheck
		return
	case Huge:
		w.Write([]byte(`{"keys":[],"pad":"` + strings.Repeat("x", 2<<20) + `"}`)) //nolint:errcheck
		return
	}
	set := jwkset.NewMemoryStorage()
	p.mu.Lock()
	for kid, k := range p.keys {
		jwk, err := jwkset.NewJWKFromKey(k.private.Public(), jwkset.JWKOptions{
			Metadata: jwkset.JWKMetadataOptions{KID: kid, ALG: jwkset.ALG(k.method.Alg()), USE: jwkset.UseSig},
		})
		if err == nil {
			err = set.KeyWrite(r.Context(), jwk)
		}
		if err != nil {
			p.mu.Unlock()
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	p.mu.Unlock()
	body, err := set.JSONPublic(r.Context())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body) //nolint:errcheck
}

// Attacker is a server that no verifier may ever contact.
type Attacker struct {
	Server *httptest.Server
	Hits   atomic.Int64
}

// NewAttacker starts an Attacker that serves the given IdP's keys plus its own
// (so that following its URL would "work").
func NewAttacker(t testing.TB) *Attacker {
	t.Helper()
	a := &Attacker{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.Hits.Add(1)
		w.Write([]byte(`{"keys":[]}`)) //nolint:errcheck
	}))
	t.Cleanup(a.Server.Close)
	return a
}

// Attacks are tokens that a verifier configured with p's JWKS URL, Issuer,
// Audience and secret must all refuse, by name. None may make it contact
// attackerURL.
func Attacks(t testing.TB, p *IdP, secret []byte, attackerURL string) map[string]string {
	t.Helper()
	good := p.Sign(t, "ed-1", Claims("alice"), nil)
	parts := strings.Split(good, ".")
	b64 := base64.RawURLEncoding.EncodeToString
	with := func(k string, v any) jwt.MapClaims {
		c := Claims("alice")
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	hmacWith := func(keyBytes []byte) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, Claims("alice"))
		tok.Header["kid"] = "ed-1"
		s, err := tok.SignedString(keyBytes)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	rsaPub, err := x509.MarshalPKIXPublicKey(p.PublicKey("rsa-1"))
	if err != nil {
		t.Fatal(err)
	}
	rsaPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: rsaPub})
	otherIdP := &IdP{keys: map[string]key{}}
	otherIdP.AddKey(t, "ed-1", "EdDSA") // same kid, another key
	now := time.Now()

	attacks := map[string]string{
		"alg none":                      b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + ".",
		"alg None":                      b64([]byte(`{"alg":"None","typ":"JWT"}`)) + "." + parts[1] + ".",
		"alg NONE":                      b64([]byte(`{"alg":"NONE","typ":"JWT"}`)) + "." + parts[1] + ".",
		"alg none with sig":             b64([]byte(`{"alg":"none"}`)) + "." + parts[1] + "." + parts[2],
		"HS256 with Ed25519 public key": hmacWith(p.PublicKey("ed-1").(ed25519.PublicKey)),
		"HS256 with RSA public key PEM": hmacWith(rsaPEM),
		"HS512 with the secret": func() string {
			s, _ := jwt.NewWithClaims(jwt.SigningMethodHS512, Claims("alice")).SignedString(secret)
			return s
		}(),
		"HS256 with another secret": func() string {
			s, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, Claims("alice")).SignedString([]byte("not-the-secret-not-the-secret-123"))
			return s
		}(),
		"RS512 (not allowed)":          jwtWith(t, jwt.SigningMethodRS512, p, "rsa-1"),
		"tampered payload":             parts[0] + "." + b64([]byte(`{"sub":"bob","iss":"`+Issuer+`","aud":"`+Audience+`","exp":9999999999}`)) + "." + parts[2],
		"tampered signature":           parts[0] + "." + parts[1] + "." + flip(parts[2]),
		"key of another IdP, same kid": otherIdP.Sign(t, "ed-1", Claims("alice"), nil),
		"wrong iss":                    p.Sign(t, "ed-1", with("iss", "https://evil.test"), nil),
		"missing iss":                  p.Sign(t, "ed-1", with("iss", nil), nil),
		"wrong aud":                    p.Sign(t, "ed-1", with("aud", "other-api"), nil),
		"aud array without ours":       p.Sign(t, "ed-1", with("aud", []string{"a", "b"}), nil),
		"missing aud":                  p.Sign(t, "ed-1", with("aud", nil), nil),
		"expired":                      p.Sign(t, "ed-1", with("exp", now.Add(-2*time.Minute).Unix()), nil),
		"nbf in the future":            p.Sign(t, "ed-1", with("nbf", now.Add(5*time.Minute).Unix()), nil),
		"iat in the future":            p.Sign(t, "ed-1", with("iat", now.Add(5*time.Minute).Unix()), nil),
		"missing exp":                  p.Sign(t, "ed-1", with("exp", nil), nil),
		"missing sub":                  p.Sign(t, "ed-1", with("sub", nil), nil),
		"empty sub":                    p.Sign(t, "ed-1", with("sub", ""), nil),
		"oversized sub":                p.Sign(t, "ed-1", with("sub", strings.Repeat("u", 256)), nil),
		"sub with control char":        p.Sign(t, "ed-1", with("sub", "alice\u0007"), nil),
		"unknown crit":                 p.Sign(t, "ed-1", Claims("alice"), map[string]any{"crit": []string{"x-custom"}, "x-custom": 1}),
		"typ JWE":                      p.Sign(t, "ed-1", Claims("alice"), map[string]any{"typ": "JWE"}),
		"kid path traversal":           p.Sign(t, "ed-1", Claims("alice"), map[string]any{"kid": "../../x"}),
		"kid SQL injection":            p.Sign(t, "ed-1", Claims("alice"), map[string]any{"kid": "' OR 1=1--"}),
		"kid not a string":             p.Sign(t, "ed-1", Claims("alice"), map[string]any{"kid": 7}),
		"jku to attacker":              otherIdP.Sign(t, "ed-1", Claims("alice"), map[string]any{"jku": attackerURL, "kid": "attacker-1"}),
		"x5u to attacker":              otherIdP.Sign(t, "ed-1", Claims("alice"), map[string]any{"x5u": attackerURL, "kid": "attacker-2"}),
		"embedded jwk":                 otherIdP.Sign(t, "ed-1", Claims("alice"), map[string]any{"jwk": map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64(otherIdP.PublicKey("ed-1").(ed25519.PublicKey))}}),
		"two segments":                 parts[0] + "." + parts[1],
		"four segments":                good + ".x",
		"bad base64url":                parts[0] + ".!!!." + parts[2],
		"non-JSON header":              b64([]byte("not json")) + "." + parts[1] + "." + parts[2],
		"garbage":                      "not-a-token",
	}
	return attacks
}

func jwtWith(t testing.TB, method jwt.SigningMethod, p *IdP, kid string) string {
	t.Helper()
	p.mu.Lock()
	k := p.keys[kid]
	p.mu.Unlock()
	tok := jwt.NewWithClaims(method, Claims("alice"))
	tok.Header["kid"] = kid
	s, err := tok.SignedString(k.private)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// flip changes the first character of a base64url string to another valid one.
func flip(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}
