package todo

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Cursor is a position in a sorted list: the sort, and the sort key and id of
// the last item shown. The next page starts right after it, so inserts and
// deletes between pages cause no duplicates and no gaps.
type Cursor struct {
	Sort string `json:"s"`
	Key  string `json:"k"` // the sort key: RFC 3339 UTC time, "infinity" (no due date) or a title
	ID   string `json:"i"`
}

// ErrBadCursor means a cursor was not made by this API for this user and sort.
var ErrBadCursor = errors.New("invalid cursor")

// MinCursorSecretLen is the shortest key that seals cursors (HMAC-SHA256).
const MinCursorSecretLen = 32

// maxCursorLen bounds what Decode reads.
const maxCursorLen = 2048

// noDueDate is the key of an undated todo in the due sorts: it sorts last.
const noDueDate = "infinity"

// CursorKey seals cursors with HMAC-SHA256, so that a cursor only comes back
// as this API (any instance sharing the key, before or after a restart) made
// it, for the same user and sort. It is safe for concurrent use.
type CursorKey struct{ secret []byte }

// NewCursorKey returns the key for secret, which must be at least
// MinCursorSecretLen bytes.
func NewCursorKey(secret []byte) (*CursorKey, error) {
	if len(secret) < MinCursorSecretLen {
		return nil, fmt.Errorf("cursor secret must be at least %d bytes, got %d", MinCursorSecretLen, len(secret))
	}
	return &CursorKey{secret: bytes.Clone(secret)}, nil
}

// After is the cursor of a page in sort that ends with t.
func After(sort string, t Todo) *Cursor {
	c := &Cursor{Sort: sort, ID: t.ID}
	switch strings.TrimPrefix(sort, "-") {
	case "created_at":
		c.Key = timeKey(t.CreatedAt)
	case "due_at":
		c.Key = noDueDate
		if t.DueAt != nil {
			c.Key = timeKey(*t.DueAt)
		}
	case "title":
		c.Key = t.Title
	}
	return c
}

// ListAfter is the cursor of a page of lists (newest first) that ends with l.
func ListAfter(l List) *Cursor {
	return &Cursor{Sort: DefaultSort, Key: timeKey(l.CreatedAt), ID: l.ID}
}

func timeKey(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// Encode turns c into the opaque string a client passes back:
// base64url(JSON of c) "." base64url(HMAC of userID and that JSON). It is
// checked, not secret.
func (k *CursorKey) Encode(c Cursor, userID string) string {
	payload, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(k.mac(userID, payload))
}

// Decode reads a cursor that Encode made for userID and sort. Anything else
// (another user's, another sort's, altered, or carrying a key or id that
// could not come from a todo) is ErrBadCursor.
func (k *CursorKey) Decode(s, userID, sort string) (*Cursor, error) {
	if len(s) > maxCursorLen {
		return nil, ErrBadCursor
	}
	p64, m64, ok := strings.Cut(s, ".")
	payload, err1 := base64.RawURLEncoding.DecodeString(p64)
	mac, err2 := base64.RawURLEncoding.DecodeString(m64)
	if !ok || err1 != nil || err2 != nil || !hmac.Equal(mac, k.mac(userID, payload)) {
		return nil, ErrBadCursor
	}
	var c Cursor
	if err := json.Unmarshal(payload, &c); err != nil || c.Sort != sort || !c.valid() {
		return nil, ErrBadCursor
	}
	return &c, nil
}

// mac binds payload to userID: the user id is length-prefixed, so no two
// (user, payload) pairs share an input.
func (k *CursorKey) mac(userID string, payload []byte) []byte {
	h := hmac.New(sha256.New, k.secret)
	h.Write(binary.AppendUvarint(nil, uint64(len(userID))))
	h.Write([]byte(userID))
	h.Write(payload)
	return h.Sum(nil)
}

// valid reports whether c's sort is known and its key and id are what After
// makes for it, so that the database is never handed a value it cannot cast.
func (c Cursor) valid() bool {
	if !slices.Contains(Sorts, c.Sort) || !isUUID(c.ID) {
		return false
	}
	switch strings.TrimPrefix(c.Sort, "-") {
	case "due_at":
		if c.Key == noDueDate {
			return true
		}
		fallthrough
	case "created_at":
		t, err := time.Parse(time.RFC3339Nano, c.Key)
		return err == nil && t.Year() >= 1 && t.Year() <= 9999 && timeKey(t) == c.Key
	default: // title; JSON decoding already made it valid UTF-8
		return len(c.Key) <= 4*MaxTitleLen && !strings.ContainsRune(c.Key, 0)
	}
}

// isUUID reports whether s is a UUID in its canonical text form, as the
// database prints ids.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if r != '-' {
				return false
			}
		case !('0' <= r && r <= '9' || 'a' <= r && r <= 'f'):
			return false
		}
	}
	return true
}
