package auth

import (
	"context"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// VerifyUntil is Verify that also says until when the token is accepted
// (its exp plus the leeway): a long-lived connection, such as an event
// stream, must end there.
func (v *Verifier) VerifyUntil(ctx context.Context, token string) (subject string, until time.Time, err error) {
	subject, err = v.Verify(ctx, token)
	if err != nil {
		return "", time.Time{}, err
	}
	// The token is verified: its claims can be read without checking again.
	claims := &jwt.RegisteredClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(token, claims); err != nil || claims.ExpiresAt == nil {
		return "", time.Time{}, ErrInvalid
	}
	return subject, claims.ExpiresAt.Add(v.leeway), nil
}
