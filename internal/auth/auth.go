// Package auth verifies the bearer JWTs that identify a person. A token is
// checked completely (signature, algorithm, expiry, issuer, audience, subject)
// before anything else happens to the request.
package auth

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/golang-jwt/jwt/v5"
)

// MinSecretLen is the shortest HS256 secret accepted: RFC 7518 requires a key
// at least as long as the hash output (256 bits).
const MinSecretLen = 32

// MaxSubjectLen bounds the subject, which becomes app.user_id in Postgres.
const MaxSubjectLen = 255

// Errors Verify returns. ErrExpired is told apart so that clients know to refresh.
var (
	ErrMissing = errors.New("missing bearer token")
	ErrExpired = errors.New("token expired")
	ErrInvalid = errors.New("invalid token")
)

// Config says which tokens to accept.
type Config struct {
	Secret   []byte        // HS256 shared secret, at least MinSecretLen bytes
	Issuer   string        // required `iss` when not empty
	Audience string        // required in `aud` when not empty
	Leeway   time.Duration // clock skew allowed for exp, nbf and iat
}

// Verifier checks tokens. It is safe for concurrent use.
type Verifier struct {
	parser *jwt.Parser
	secret []byte
}

// NewVerifier returns a Verifier for cfg, or an error if cfg is unsafe.
func NewVerifier(cfg Config) (*Verifier, error) {
	if len(cfg.Secret) < MinSecretLen {
		return nil, fmt.Errorf("JWT secret must be at least %d bytes, got %d", MinSecretLen, len(cfg.Secret))
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
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
	return &Verifier{parser: jwt.NewParser(opts...), secret: cfg.Secret}, nil
}

// Verify checks token and returns its subject, the user id.
func (v *Verifier) Verify(token string) (subject string, err error) {
	if token == "" {
		return "", ErrMissing
	}
	claims := &jwt.RegisteredClaims{}
	_, err = v.parser.ParseWithClaims(token, claims, v.key)
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "", ErrExpired
	case err != nil:
		return "", fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := checkSubject(claims.Subject); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return claims.Subject, nil
}

// key checks the header before handing out the key: a `typ` other than JWT and
// any `crit` extension (RFC 7515 4.1.11: we understand none) are refused.
// Key-locating headers (jku, x5u, jwk, x5c) are never read.
func (v *Verifier) key(t *jwt.Token) (any, error) {
	if typ, ok := t.Header["typ"]; ok {
		if s, _ := typ.(string); !strings.EqualFold(s, "JWT") && !strings.EqualFold(s, "at+jwt") {
			return nil, fmt.Errorf("unexpected typ %v", typ)
		}
	}
	if _, ok := t.Header["crit"]; ok {
		return nil, errors.New("unsupported crit header")
	}
	return v.secret, nil
}

func checkSubject(sub string) error {
	switch {
	case sub == "":
		return errors.New("missing sub")
	case len(sub) > MaxSubjectLen:
		return errors.New("sub too long")
	case strings.ContainsFunc(sub, unicode.IsControl):
		return errors.New("control character in sub")
	}
	return nil
}

// Sign issues an HS256 token for subject, valid for ttl. It serves development
// (`todoapi token`) and tests; production tokens come from the identity provider.
func Sign(cfg Config, subject string, ttl time.Duration) (string, error) {
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
