// Package auth verifies the bearer JWTs that identify a person. A token is
// checked completely (algorithm, signature, expiry, issuer, audience, subject)
// before anything else happens to the request.
//
// Keys come from an HS256 shared secret, from JWKS URLs (Better Auth's EdDSA,
// RS256, ES256...), or both. The algorithms accepted follow from the sources
// configured, and each algorithm family only ever gets its own source's keys:
// an HS256 token is checked against the secret alone, never against a public
// key's bytes.
package auth

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"github.com/hashicorp/golang-lru/v2/expirable"
	"golang.org/x/time/rate"

	"github.com/todoapi/todoapi/internal/todo"
)

// MinSecretLen is the shortest HS256 secret accepted: RFC 7518 requires a key
// at least as long as the hash output (256 bits).
const MinSecretLen = 32

// MaxSubjectLen bounds the subject, which becomes app.user_id in Postgres.
const MaxSubjectLen = 255

// Algorithms accepted from each kind of key source.
var (
	SecretAlgorithms = []string{"HS256"}
	JWKSAlgorithms   = []string{"EdDSA", "ES256", "ES384", "ES512", "RS256", "PS256"}
)

// JWKS client settings. A request never waits on the JWKS endpoint for more
// than keyWait; an unknown kid refetches the set at most once per
// Config.UnknownKIDInterval.
const (
	jwksRefreshInterval = 15 * time.Minute
	jwksFetchTimeout    = 5 * time.Second
	jwksMaxBytes        = 512 << 10
	keyWait             = 2 * time.Second
)

// Errors Verify returns. ErrExpired is told apart so that clients know to refresh.
var (
	ErrMissing = errors.New("missing bearer token")
	ErrExpired = errors.New("token expired")
	ErrInvalid = errors.New("invalid token")
)

// Config says which tokens to accept.
type Config struct {
	Secret   []byte        // HS256 shared secret, at least MinSecretLen bytes; nil for none
	JWKSURLs []string      // JWKS endpoints, e.g. Better Auth's <base>/api/auth/jwks
	Issuer   string        // required `iss` when not empty
	Audience string        // required in `aud` when not empty
	Leeway   time.Duration // clock skew allowed for exp, nbf and iat

	// UnknownKIDInterval is the least time between two refetches caused by
	// tokens with an unknown key id (key rotation); 0 means 10s.
	UnknownKIDInterval time.Duration
	// HTTPClient fetches the JWKS; nil means one with a timeout, a size cap
	// and no redirects.
	HTTPClient *http.Client
	Logger     *slog.Logger // JWKS fetch failures; nil means slog.Default()
	// OnJWKSFetch, when set, hears of every JWKS fetch: nil for a good one.
	OnJWKSFetch func(err error)
}

// Verified tokens are remembered for at most cacheTTL (and never past their
// expiry), so a person's next requests skip the signature check: EdDSA
// verification costs 50-120µs of CPU, a cache hit about 2µs. A hit still
// checks that the key that verified the token is published as it was (see
// stillPublished): a key removed from or replaced in the JWKS refuses its
// tokens from the refetch that notices it, cached or not. So the cache can
// keep a token as long as the JWKS is refreshed (jwksRefreshInterval):
// people who come back within minutes, not only within seconds, skip the
// check. cacheSize bounds its memory (about 200 bytes a token).
const (
	cacheTTL  = jwksRefreshInterval
	cacheSize = 20000
)

// Verifier checks tokens. It is safe for concurrent use.
type Verifier struct {
	parser *jwt.Parser
	leeway time.Duration
	secret []byte
	jwks   keyfunc.Keyfunc // nil without JWKS URLs
	cache  *expirable.LRU[[sha256.Size]byte, verified]
}

type verified struct {
	subject string
	until   time.Time
	kid     string // of the JWKS key that verified it; "" for the secret
	alg     string // the token's
	key     any    // that key
}

// NewVerifier returns a Verifier for cfg, or an error if cfg is unsafe. With
// JWKS URLs it fetches the keys once (an unreachable endpoint is not an error:
// Ready reports it) and refreshes them until ctx ends.
func NewVerifier(ctx context.Context, cfg Config) (*Verifier, error) {
	v := &Verifier{leeway: cfg.Leeway, cache: expirable.NewLRU[[sha256.Size]byte, verified](cacheSize, nil, cacheTTL)}
	var methods []string
	if cfg.Secret != nil {
		if len(cfg.Secret) < MinSecretLen {
			return nil, fmt.Errorf("JWT secret must be at least %d bytes, got %d", MinSecretLen, len(cfg.Secret))
		}
		v.secret = cfg.Secret
		methods = append(methods, SecretAlgorithms...)
	}
	if len(cfg.JWKSURLs) > 0 {
		jwks, err := newJWKS(ctx, cfg)
		if err != nil {
			return nil, err
		}
		v.jwks = jwks
		methods = append(methods, JWKSAlgorithms...)
	}
	if len(methods) == 0 {
		return nil, errors.New("no key source: set a JWT secret or JWKS URLs")
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(methods),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(cfg.Leeway),
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

func newJWKS(ctx context.Context, cfg Config) (keyfunc.Keyfunc, error) {
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{
			Timeout:       jwksFetchTimeout,
			Transport:     capBody{next: http.DefaultTransport, max: jwksMaxBytes, observe: cfg.OnJWKSFetch},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	interval := cfg.UnknownKIDInterval
	if interval == 0 {
		interval = 10 * time.Second
	}
	return keyfunc.NewDefaultOverrideCtx(ctx, cfg.JWKSURLs, keyfunc.Override{
		Client:            client,
		HTTPTimeout:       jwksFetchTimeout,
		RefreshInterval:   jwksRefreshInterval,
		RefreshUnknownKID: rate.NewLimiter(rate.Every(interval), 1),
		// The given (in-memory) set is always empty: look in the fetched sets
		// first, so that a key found there costs no not-found error (built
		// with fmt.Errorf) from the given set on every request.
		PrioritizeHTTP: true,
		// Bounds the limiter wait and the refetch together (jwkset uses one
		// context for both). A limiter that has no token before this deadline
		// refuses at once instead of waiting.
		RateLimitWaitMax: keyWait,
		RefreshErrorHandlerFunc: func(url string) func(context.Context, error) {
			return func(ctx context.Context, err error) {
				logger.WarnContext(ctx, "JWKS fetch failed; cached keys stay in use", "url", url, "err", err)
			}
		},
	})
}

// Ready reports whether every configured key source has keys. With JWKS URLs
// and no key yet (the endpoint was down at boot) it tries a refetch, within
// the unknown-kid rate limit.
func (v *Verifier) Ready(ctx context.Context) error {
	if v.jwks == nil {
		return nil
	}
	if keys, err := v.jwks.Storage().KeyReadAll(ctx); err == nil && len(keys) > 0 {
		return nil
	}
	_, _ = v.jwks.Storage().KeyRead(ctx, "readiness-probe") // refetches as for an unknown kid
	if keys, err := v.jwks.Storage().KeyReadAll(ctx); err != nil || len(keys) == 0 {
		return errors.New("no JWKS keys yet")
	}
	return nil
}

// Verify checks token and returns its subject, the user id.
func (v *Verifier) Verify(ctx context.Context, token string) (subject string, err error) {
	if token == "" {
		return "", ErrMissing
	}
	sum := sha256.Sum256([]byte(token))
	now := time.Now()
	if hit, ok := v.cache.Get(sum); ok && now.Before(hit.until) && v.stillPublished(ctx, hit) {
		return hit.subject, nil
	}
	ctx, cancel := context.WithTimeout(ctx, keyWait)
	defer cancel()
	claims := &claims{}
	var used verified
	_, err = v.parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		used.kid, _ = t.Header["kid"].(string)
		used.alg = t.Method.Alg()
		key, err := v.key(ctx, t)
		used.key = key
		return key, err
	})
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "", ErrExpired
	case err != nil:
		return "", fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := CheckSubject(claims.Subject); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if _, hmac := used.key.([]byte); hmac {
		used.kid = ""
	} else if used.kid == "" {
		return claims.Subject, nil // no kid: any key of the set may have verified it, so it is not remembered
	}
	used.subject, used.until = claims.Subject, claims.ExpiresAt.Add(v.leeway)
	v.cache.Add(sum, used)
	return claims.Subject, nil
}

// stillPublished reports whether the key that verified a cached token is
// still the one the JWKS gives for its kid and alg, through the same lookup
// and checks (the key's alg and use) as a fresh verification; the secret
// does not change. It is a map lookup; a kid no longer published refetches
// the set, as a new kid does (rate-limited, and bounded by keyWait: see
// newJWKS), and then the token is checked again, and refused.
func (v *Verifier) stillPublished(ctx context.Context, hit verified) bool {
	if hit.kid == "" {
		return true
	}
	key, err := v.jwks.KeyfuncCtx(ctx)(&jwt.Token{Header: map[string]any{"kid": hit.kid, "alg": hit.alg}})
	if err != nil {
		return false
	}
	published, ok := key.(interface{ Equal(crypto.PublicKey) bool })
	return ok && published.Equal(hit.key)
}

// key is called after the parser has checked alg against the allow-list. It
// refuses a `typ` other than JWT and any `crit` extension (RFC 7515 4.1.11: we
// understand none), and picks the key by algorithm family: the secret for
// HMAC, the JWKS for everything else. Key-locating headers (jku, x5u, jwk,
// x5c) are never read.
func (v *Verifier) key(ctx context.Context, t *jwt.Token) (any, error) {
	if typ, ok := t.Header["typ"]; ok {
		if s, _ := typ.(string); !strings.EqualFold(s, "JWT") && !strings.EqualFold(s, "at+jwt") {
			return nil, fmt.Errorf("unexpected typ %v", typ)
		}
	}
	if _, ok := t.Header["crit"]; ok {
		return nil, errors.New("unsupported crit header")
	}
	if _, hmac := t.Method.(*jwt.SigningMethodHMAC); hmac {
		if v.secret == nil {
			return nil, errors.New("no secret configured")
		}
		return v.secret, nil
	}
	if v.jwks == nil {
		return nil, errors.New("no JWKS configured")
	}
	return v.jwks.KeyfuncCtx(ctx)(t)
}

// claims are the registered claims, read strictly: member names are matched
// exactly (RFC 7519 names are case-sensitive; encoding/json alone would take
// "EXP" for exp), and exp, nbf and iat must be JSON numbers (NumericDate),
// where golang-jwt also takes a string that holds a number.
type claims struct{ jwt.RegisteredClaims }

func (c *claims) UnmarshalJSON(b []byte) error {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(b, &members); err != nil {
		return err
	}
	fields := map[string]any{"iss": &c.Issuer, "sub": &c.Subject, "aud": &c.Audience, "jti": &c.ID,
		"exp": &c.ExpiresAt, "nbf": &c.NotBefore, "iat": &c.IssuedAt}
	for name, field := range fields {
		raw, ok := members[name]
		if !ok {
			continue
		}
		if _, date := field.(**jwt.NumericDate); date && raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
			return fmt.Errorf("%s is not a number", name)
		}
		if err := json.Unmarshal(raw, field); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// CheckSubject says whether sub can be a user id: 1 to MaxSubjectLen bytes,
// no control characters, and not todo.Me (which names the caller in paths).
// Tokens and new members are held to it.
func CheckSubject(sub string) error {
	switch {
	case sub == "":
		return errors.New("missing sub")
	case len(sub) > MaxSubjectLen:
		return errors.New("sub too long")
	case strings.ContainsFunc(sub, unicode.IsControl):
		return errors.New("control character in sub")
	case sub == todo.Me:
		return errors.New(`sub "me" is reserved: it names the caller in paths`)
	}
	return nil
}

// Sign issues an HS256 token for subject, valid for ttl. It serves development
// (`todoapi token`) and tests; production tokens come from the identity provider.
func Sign(cfg Config, subject string, ttl time.Duration) (string, error) {
	if len(cfg.Secret) < MinSecretLen {
		return "", fmt.Errorf("JWT secret must be at least %d bytes", MinSecretLen)
	}
	now := time.Now()
	claims := jwt.RegisteredClaims{
		Subject:   subject,
		Issuer:    cfg.Issuer,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}
	if cfg.Audience != "" {
		claims.Audience = jwt.ClaimStrings{cfg.Audience}
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(cfg.Secret)
}
