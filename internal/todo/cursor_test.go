package todo_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/todoapi/todoapi/internal/todo"
)

var (
	secret   = []byte("cursor-test-secret-cursor-test-s")
	id       = "0b5c8a4e-3f1d-4c47-9a53-2f6d1e9b7c10"
	created  = time.Date(2026, 11, 28, 10, 11, 6, 123456000, time.FixedZone("CET", 3600))
	lastTodo = todo.Todo{ID: id, Title: "Buy milk", CreatedAt: created}
)

func key(t testing.TB, secret []byte) *todo.CursorKey {
	t.Helper()
	k, err := todo.NewCursorKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestNewCursorKeyRefusesShortSecret(t *testing.T) {
	if _, err := todo.NewCursorKey(secret[:todo.MinCursorSecretLen-1]); err == nil {
		t.Fatal("31-byte cursor secret accepted")
	}
}

func TestCursorRoundTrip(t *testing.T) {
	k := key(t, secret)
	due := created.Add(time.Hour)
	for _, sort := range todo.Sorts {
		for _, last := range []todo.Todo{lastTodo, {ID: id, Title: "é\t\"x\"", CreatedAt: created, DueAt: &due}} {
			want := todo.After(sort, last)
			got, err := k.Decode(k.Encode(*want, "alice"), "alice", sort)
			if err != nil {
				t.Fatalf("%s: %v", sort, err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: (-want +got)\n%s", sort, diff)
			}
		}
	}
}

// TestAfterKeys: the key is the sort column's value in a form Postgres reads
// back exactly: UTC RFC 3339 with microseconds, infinity for no due date.
func TestAfterKeys(t *testing.T) {
	cases := map[string]string{
		"-created_at": "2026-11-28T09:11:06.123456Z",
		"due_at":      "infinity",
		"title":       "Buy milk",
	}
	for sort, want := range cases {
		if got := todo.After(sort, lastTodo).Key; got != want {
			t.Errorf("%s: key %q, want %q", sort, got, want)
		}
	}
}

func TestCursorRefused(t *testing.T) {
	k := key(t, secret)
	good := k.Encode(*todo.After("title", lastTodo), "alice")
	payload, mac, _ := strings.Cut(good, ".")
	flipped := []byte(payload)
	flipped[3] ^= 1
	junk := func(c todo.Cursor) string { return k.Encode(c, "alice") }
	cases := map[string]struct{ cursor, user, sort string }{
		"other user":       {good, "bob", "title"},
		"other sort":       {good, "alice", "-title"},
		"other key":        {key(t, []byte(strings.Repeat("k", 32))).Encode(*todo.After("title", lastTodo), "alice"), "alice", "title"},
		"tampered payload": {string(flipped) + "." + mac, "alice", "title"},
		"tampered mac":     {payload + "." + mac[:len(mac)-2] + "AA", "alice", "title"},
		"no mac":           {payload, "alice", "title"},
		"empty mac":        {payload + ".", "alice", "title"},
		"not base64":       {"%%%." + mac, "alice", "title"},
		"empty":            {"", "alice", "title"},
		"too long":         {good + strings.Repeat("A", 2048), "alice", "title"},
		// Well-formed and correctly sealed, with junk inside: never reaches the database.
		"id not a uuid":         {junk(todo.Cursor{Sort: "title", Key: "a", ID: "42"}), "alice", "title"},
		"id upper case":         {junk(todo.Cursor{Sort: "title", Key: "a", ID: strings.ToUpper(id)}), "alice", "title"},
		"time key not a time":   {junk(todo.Cursor{Sort: "created_at", Key: "yesterday", ID: id}), "alice", "created_at"},
		"time key not UTC":      {junk(todo.Cursor{Sort: "created_at", Key: "2026-11-28T10:11:06+01:00", ID: id}), "alice", "created_at"},
		"time key year 0":       {junk(todo.Cursor{Sort: "created_at", Key: "0000-01-01T00:00:00Z", ID: id}), "alice", "created_at"},
		"infinity as created":   {junk(todo.Cursor{Sort: "-created_at", Key: "infinity", ID: id}), "alice", "-created_at"},
		"due key not a time":    {junk(todo.Cursor{Sort: "due_at", Key: "-infinity", ID: id}), "alice", "due_at"},
		"title key with NUL":    {junk(todo.Cursor{Sort: "title", Key: "a\x00b", ID: id}), "alice", "title"},
		"unknown sort":          {junk(todo.Cursor{Sort: "user_id", Key: "a", ID: id}), "alice", "user_id"},
		"payload not a cursor":  {k.Encode(todo.Cursor{}, "alice")[:3] + "." + mac, "alice", "title"},
		"sealed empty cursor":   {junk(todo.Cursor{}), "alice", ""},
		"title key over length": {junk(todo.Cursor{Sort: "title", Key: strings.Repeat("x", 4*todo.MaxTitleLen+1), ID: id}), "alice", "title"},
	}
	for name, c := range cases {
		if got, err := k.Decode(c.cursor, c.user, c.sort); !errors.Is(err, todo.ErrBadCursor) {
			t.Errorf("%s: (%+v, %v), want ErrBadCursor", name, got, err)
		}
	}
	if _, err := k.Decode(good, "alice", "title"); err != nil {
		t.Errorf("the good cursor: %v", err)
	}
}

// FuzzDecodeCursor: no input makes Decode panic, and it either refuses with
// ErrBadCursor or returns a cursor for the sort asked, with a valid key and id.
func FuzzDecodeCursor(f *testing.F) {
	k := key(f, secret)
	for _, sort := range todo.Sorts {
		f.Add(k.Encode(*todo.After(sort, lastTodo), "alice"), "alice", sort)
	}
	f.Add(k.Encode(todo.Cursor{Sort: "title", Key: "a\x00", ID: "x"}, "alice"), "alice", "title")
	f.Add("eyJzIjoidGl0bGUifQ.", "alice", "title")
	f.Add("....", "", "")
	f.Fuzz(func(t *testing.T, s, user, sort string) {
		c, err := k.Decode(s, user, sort)
		if err != nil {
			if !errors.Is(err, todo.ErrBadCursor) {
				t.Fatalf("error %v, want ErrBadCursor", err)
			}
			return
		}
		if c.Sort != sort {
			t.Fatalf("cursor for %q accepted for %q", c.Sort, sort)
		}
		if again, err := k.Decode(k.Encode(*c, user), user, sort); err != nil || *again != *c {
			t.Fatalf("accepted cursor %+v does not round-trip: %+v, %v", c, again, err)
		}
	})
}
