package todo

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
)

// Cursor is a position in a sorted list: the sort, and the sort key and id of
// the last item shown. The next page starts right after it, so inserts and
// deletes between pages cause no duplicates and no gaps.
type Cursor struct {
	Sort string `json:"s"`
	Key  string `json:"k"` // the sort column's value, as Postgres text
	ID   string `json:"i"`
}

// ErrBadCursor means a cursor was not made by this API for this user and sort.
var ErrBadCursor = errors.New("invalid cursor")

type sealed struct {
	Cursor
	User [8]byte `json:"u"` // whose list: a cursor is only good for its user
	Sum  [8]byte `json:"c"` // checksum of the rest: tampered bytes are refused
}

func (c Cursor) seal(userID string) sealed {
	s := sealed{Cursor: c}
	u := sha256.Sum256([]byte(userID))
	copy(s.User[:], u[:])
	b, _ := json.Marshal(s)
	sum := sha256.Sum256(b)
	copy(s.Sum[:], sum[:])
	return s
}

// Encode turns c into the opaque string a client passes back. It is checked,
// not secret: row-level security already keeps other users' rows out of any
// page, so a forged cursor can only move within the caller's own list.
func (c Cursor) Encode(userID string) string {
	b, _ := json.Marshal(c.seal(userID))
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads a cursor that Encode made for userID and sort.
func DecodeCursor(s, userID, sort string) (*Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 2048 {
		return nil, ErrBadCursor
	}
	var got sealed
	if err := json.Unmarshal(b, &got); err != nil {
		return nil, ErrBadCursor
	}
	if got != got.Cursor.seal(userID) || got.Sort != sort || !slices.Contains(Sorts, sort) {
		return nil, ErrBadCursor
	}
	return &got.Cursor, nil
}
