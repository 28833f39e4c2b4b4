package todo

import (
	"errors"
	"strings"
	"time"
)

// The instants a due date may take: years 0001 to 9999 in UTC, which both
// Postgres and JSON (RFC 3339) can hold and give back. The database has the
// same rule as a CHECK (migration 000005).
var (
	MinDueAt = time.Date(1, time.January, 1, 0, 0, 0, 0, time.UTC)
	MaxDueAt = time.Date(9999, time.December, 31, 23, 59, 59, 999999000, time.UTC) // Postgres keeps microseconds
)

// CheckDueAt says what is wrong with a due date a client gave, or nil: its UTC
// instant must lie in MinDueAt..MaxDueAt, and its offset within ±23:59 (RFC
// 3339 hours are 00-23, and Go cannot write a time with a larger offset back).
func CheckDueAt(t time.Time) error {
	if _, offset := t.Zone(); offset <= -24*60*60 || offset >= 24*60*60 {
		return errors.New("the UTC offset must be within -23:59 and +23:59")
	}
	if t.Before(MinDueAt) || t.After(MaxDueAt) {
		return errors.New("the date must fall in the years 0001 to 9999 (UTC)")
	}
	return nil
}

// CheckText says what is wrong with text a client gave, or nil: Postgres text
// holds any Unicode character but NUL.
func CheckText(s string) error {
	if strings.ContainsRune(s, 0) {
		return errors.New("must not contain the NUL character (U+0000)")
	}
	return nil
}
