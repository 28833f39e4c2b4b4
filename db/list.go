package db

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/todoapi/todoapi/internal/todo"
)

// ListStore is the Postgres todo.ListStore. Like TodoStore it only says what
// to do; the policies of policies/lists.sql, list_members.sql and
// list_invitations.sql decide what the caller may see and change.
type ListStore struct{ db *DB }

// NewListStore returns a todo.ListStore backed by db.
func NewListStore(db *DB) *ListStore { return &ListStore{db: db} }

var _ todo.ListStore = (*ListStore)(nil)

// listView is a list as the caller sees it, with their role and the number of
// members; $1 is the caller. Reads of list_members obey its policies too.
const listView = `l.id, l.name, l.personal_of IS NOT NULL,
    (SELECT m.role FROM list_members m WHERE m.list_id = l.id AND m.user_id = $1),
    (SELECT count(*) FROM list_members m WHERE m.list_id = l.id),
    l.created_at, l.updated_at, l.version`

func scanList(row pgx.CollectableRow) (todo.List, error) {
	var l todo.List
	err := row.Scan(&l.ID, &l.Name, &l.Personal, &l.MyRole, &l.MemberCount, &l.CreatedAt, &l.UpdatedAt, &l.Version)
	return l, err
}

// newID is a random (version 4) UUID, made here when the row must be read
// back by a later statement of the same transaction.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// The new list's first owner is added by a trigger after the insert, so the
// insert cannot return the row (the caller may see it only as a member): the
// next statement of the same transaction reads it.
const (
	createList  = `INSERT INTO lists (id, name, created_by) VALUES ($2, $3, $1)`
	getList     = `SELECT ` + listView + ` FROM lists l WHERE l.id = $2`
	pageOfLists = `SELECT ` + listView + ` FROM lists l
WHERE l.id = ANY (` + myLists + `)
  AND ($2::timestamptz IS NULL OR (l.created_at, l.id) < ($2, $3::uuid))
ORDER BY l.created_at DESC, l.id DESC LIMIT $4`
)

// CreateList makes a list whose first owner is the caller.
func (s *ListStore) CreateList(ctx context.Context, c todo.Caller, name string) (todo.List, error) {
	id := newID()
	var l todo.List
	err := s.db.send(ctx, c, false, func(b *pgx.Batch) {
		b.Queue(createList, c.UserID, id, name)
		b.Queue(getList, c.UserID, id).Query(func(rows pgx.Rows) (err error) {
			l, err = pgx.CollectExactlyOneRow(rows, scanList)
			return err
		})
	})
	return l, err
}

// Lists returns one page of the caller's lists, newest first.
func (s *ListStore) Lists(ctx context.Context, c todo.Caller, limit int, after *todo.Cursor) (todo.ListPage, error) {
	var key, id any
	if after != nil {
		key, id = after.Key, after.ID
	}
	page := todo.ListPage{Items: make([]todo.List, 0, limit+1)}
	err := s.db.asUser(ctx, c, true, pageOfLists, []any{c.UserID, key, id, limit + 1}, func(rows pgx.Rows) error {
		for rows.Next() {
			if len(page.Items) == limit {
				page.Next = todo.ListAfter(page.Items[len(page.Items)-1])
				return nil
			}
			l, err := scanList(rows)
			if err != nil {
				return err
			}
			page.Items = append(page.Items, l)
		}
		return rows.Err()
	})
	return page, err
}

// GetList returns one of the caller's lists.
func (s *ListStore) GetList(ctx context.Context, c todo.Caller, id string) (todo.List, error) {
	var l todo.List
	err := s.db.asUser(ctx, c, true, getList, []any{c.UserID, id}, func(rows pgx.Rows) (err error) {
		l, err = pgx.CollectExactlyOneRow(rows, scanList)
		return err
	})
	return l, err
}

// A list write applies only at one of the versions in $3 (NULL: any), like
// conditional for todos: the written row (applied), the row as the caller
// sees it unchanged with whether they own it (if so, the version did not
// match: 412; else the policies refused: 403), or none (404).
func listWrite(write string) string {
	return `WITH w AS (` + write + ` WHERE id = $2 AND ($3::bigint[] IS NULL OR version = ANY ($3)) RETURNING *)
SELECT ` + listView + `, true, true FROM w l
UNION ALL
SELECT ` + listView + `, false, l.id = ANY (` + ownedLists + `) FROM lists l WHERE l.id = $2 AND NOT EXISTS (SELECT FROM w)`
}

var (
	renameList = listWrite(`UPDATE lists SET name = $4`)
	deleteList = listWrite(`DELETE FROM lists`)
)

func (s *ListStore) writeList(ctx context.Context, c todo.Caller, query string, args ...any) (todo.List, error) {
	var l todo.List
	var applied, writable bool
	err := s.db.asUser(ctx, c, false, query, append([]any{c.UserID}, args...), func(rows pgx.Rows) error {
		_, err := pgx.CollectExactlyOneRow(rows, func(row pgx.CollectableRow) (struct{}, error) {
			return struct{}{}, row.Scan(&l.ID, &l.Name, &l.Personal, &l.MyRole, &l.MemberCount, &l.CreatedAt, &l.UpdatedAt, &l.Version, &applied, &writable)
		})
		return err
	})
	return l, outcome(err, applied, writable)
}

// outcome names a conditional write that found its row but did not apply:
// the policies refused a caller who may not write there (ErrForbidden), else
// the version did not match (ErrPreconditionFailed).
func outcome(err error, applied, writable bool) error {
	switch {
	case err != nil || applied:
		return err
	case !writable:
		return todo.ErrForbidden
	}
	return todo.ErrPreconditionFailed
}

// RenameList renames one of the caller's lists (owners only).
func (s *ListStore) RenameList(ctx context.Context, c todo.Caller, id, name string, ifMatch todo.Versions) (todo.List, error) {
	l, err := s.writeList(ctx, c, renameList, id, versions(ifMatch), name)
	return asNow(ctx, l, err, func(ctx context.Context) (todo.List, error) { return s.GetList(ctx, c, id) })
}

// DeleteList deletes one of the caller's lists with its todos (owners only).
func (s *ListStore) DeleteList(ctx context.Context, c todo.Caller, id string, ifMatch todo.Versions) error {
	_, err := s.writeList(ctx, c, deleteList, id, versions(ifMatch))
	return err
}

const memberColumns = `user_id, role, added_by, added_at`

func scanMember(row pgx.CollectableRow) (todo.Member, error) {
	var m todo.Member
	err := row.Scan(&m.UserID, &m.Role, &m.AddedBy, &m.AddedAt)
	return m, err
}

// A list the caller can see has at least one member (an owner), so a first
// page without rows means a list they cannot see.
const members = `SELECT ` + memberColumns + ` FROM list_members
WHERE list_id = $1 AND user_id > $2 ORDER BY user_id LIMIT $3`

// Members lists a list's members by user id.
func (s *ListStore) Members(ctx context.Context, c todo.Caller, listID string, limit int, after string) ([]todo.Member, error) {
	var out []todo.Member
	err := s.db.asUser(ctx, c, true, members, []any{listID, after, limit}, func(rows pgx.Rows) (err error) {
		out, err = pgx.CollectRows(rows, scanMember)
		return err
	})
	if err == nil && len(out) == 0 && after == "" {
		return nil, todo.ErrNotFound
	}
	return out, err
}

// A member write that returns no row is explained by the probe that follows
// it in the same transaction: the target visible to the caller means the
// policies refused the write (403), else there is nothing to write (404).
const (
	addMember = `INSERT INTO list_members (list_id, user_id, role, added_by)
SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT FROM lists WHERE id = $1)
RETURNING ` + memberColumns
	setRole       = `UPDATE list_members SET role = $3 WHERE list_id = $1 AND user_id = $2 RETURNING ` + memberColumns
	removeMember  = `DELETE FROM list_members WHERE list_id = $1 AND user_id = $2 RETURNING ` + memberColumns
	listVisible   = `SELECT EXISTS (SELECT FROM lists WHERE id = $1)`
	memberVisible = `SELECT EXISTS (SELECT FROM list_members WHERE list_id = $1 AND user_id = $2)`
)

// writeOrExplain runs write, which returns the row it wrote, then probe, which
// says whether the target is visible to the caller, in one transaction.
func (s *ListStore) writeOrExplain(ctx context.Context, c todo.Caller, write string, args []any, probe string, probeArgs ...any) (todo.Member, error) {
	var m todo.Member
	var wrote, visible bool
	err := s.db.send(ctx, c, false, func(b *pgx.Batch) {
		b.Queue(write, args...).Query(func(rows pgx.Rows) error {
			items, err := pgx.CollectRows(rows, scanMember)
			if len(items) == 1 {
				m, wrote = items[0], true
			}
			return err
		})
		b.Queue(probe, probeArgs...).QueryRow(func(row pgx.Row) error { return row.Scan(&visible) })
	})
	switch {
	case err != nil || wrote:
		return m, err
	case visible:
		return m, todo.ErrForbidden
	}
	return m, todo.ErrNotFound
}

// AddMember adds a member (owners only); an existing member is ErrConflict.
func (s *ListStore) AddMember(ctx context.Context, c todo.Caller, listID, userID, role string) (todo.Member, error) {
	return s.writeOrExplain(ctx, c, addMember, []any{listID, userID, role, c.UserID}, listVisible, listID)
}

// SetRole changes a member's role (owners only).
func (s *ListStore) SetRole(ctx context.Context, c todo.Caller, listID, userID, role string) (todo.Member, error) {
	return s.writeOrExplain(ctx, c, setRole, []any{listID, userID, role}, memberVisible, listID, userID)
}

// RemoveMember removes a member (owners), or the caller themselves (leave).
func (s *ListStore) RemoveMember(ctx context.Context, c todo.Caller, listID, userID string) error {
	_, err := s.writeOrExplain(ctx, c, removeMember, []any{listID, userID}, memberVisible, listID, userID)
	return err
}

const invitationColumns = `id, list_id, role, max_uses, uses, expires_at, revoked_at, created_by, created_at`

func scanInvitation(row pgx.CollectableRow) (todo.Invitation, error) {
	var i todo.Invitation
	err := row.Scan(&i.ID, &i.ListID, &i.Role, &i.MaxUses, &i.Uses, &i.ExpiresAt, &i.RevokedAt, &i.CreatedBy, &i.CreatedAt)
	return i, err
}

const (
	createInvitation = `INSERT INTO list_invitations (list_id, token_hash, role, max_uses, expires_at, created_by)
SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT FROM lists WHERE id = $1)
RETURNING ` + invitationColumns
	invitations = `SELECT ` + invitationColumns + ` FROM list_invitations
WHERE list_id = $1 ORDER BY created_at DESC, id DESC LIMIT 100`
	revokeInvitation = `UPDATE list_invitations SET revoked_at = now()
WHERE list_id = $1 AND id = $2 AND revoked_at IS NULL RETURNING id`
	invitationVisible = `SELECT EXISTS (SELECT FROM list_invitations WHERE list_id = $1 AND id = $2)`
	acceptInvitation  = `SELECT list_id, role, outcome FROM app.accept_invitation($1)`
)

// tokenHash is what the database keeps of an invitation token.
func tokenHash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// CreateInvitation makes an invitation to one of the caller's lists (owners
// only) and returns it with its token, which is never shown again.
func (s *ListStore) CreateInvitation(ctx context.Context, c todo.Caller, listID string, n todo.NewInvitation) (todo.Invitation, error) {
	var secret [32]byte
	_, _ = rand.Read(secret[:])
	token := base64.RawURLEncoding.EncodeToString(secret[:])
	var inv todo.Invitation
	var made, visible bool
	err := s.db.send(ctx, c, false, func(b *pgx.Batch) {
		b.Queue(createInvitation, listID, tokenHash(token), n.Role, n.MaxUses, n.ExpiresAt, c.UserID).Query(func(rows pgx.Rows) error {
			items, err := pgx.CollectRows(rows, scanInvitation)
			if len(items) == 1 {
				inv, made = items[0], true
			}
			return err
		})
		b.Queue(listVisible, listID).QueryRow(func(row pgx.Row) error { return row.Scan(&visible) })
	})
	switch {
	case err != nil:
		return todo.Invitation{}, err
	case made:
		inv.Token = token
		return inv, nil
	case visible:
		return todo.Invitation{}, todo.ErrForbidden
	}
	return todo.Invitation{}, todo.ErrNotFound
}

// Invitations lists a list's newest 100 invitations: all of them for an
// owner, none for other members (the policies show them to owners only).
func (s *ListStore) Invitations(ctx context.Context, c todo.Caller, listID string) ([]todo.Invitation, error) {
	var out []todo.Invitation
	var visible bool
	err := s.db.send(ctx, c, true, func(b *pgx.Batch) {
		b.Queue(invitations, listID).Query(func(rows pgx.Rows) (err error) {
			out, err = pgx.CollectRows(rows, scanInvitation)
			return err
		})
		b.Queue(listVisible, listID).QueryRow(func(row pgx.Row) error { return row.Scan(&visible) })
	})
	if err == nil && !visible {
		return nil, todo.ErrNotFound
	}
	return out, err
}

// RevokeInvitation revokes an invitation (owners only); revoking one again
// changes nothing.
func (s *ListStore) RevokeInvitation(ctx context.Context, c todo.Caller, listID, id string) error {
	var visible bool
	err := s.db.send(ctx, c, false, func(b *pgx.Batch) {
		b.Queue(revokeInvitation, listID, id)
		b.Queue(invitationVisible, listID, id).QueryRow(func(row pgx.Row) error { return row.Scan(&visible) })
	})
	if err == nil && !visible {
		return todo.ErrNotFound
	}
	return err
}

// AcceptInvitation makes the caller a member through an invitation token.
func (s *ListStore) AcceptInvitation(ctx context.Context, c todo.Caller, token string) (todo.Joined, error) {
	var j todo.Joined
	var role *string
	var result string
	err := s.db.asUser(ctx, c, false, acceptInvitation, []any{tokenHash(token)}, func(rows pgx.Rows) error {
		_, err := pgx.CollectExactlyOneRow(rows, func(row pgx.CollectableRow) (struct{}, error) {
			return struct{}{}, row.Scan(&j.ListID, &role, &result)
		})
		return err
	})
	switch {
	case err != nil:
		return todo.Joined{}, err
	case result != "joined" && result != "member":
		return todo.Joined{}, fmt.Errorf("%w: it %s", todo.ErrInvitationUnusable, strings.ReplaceAll(result, "_", " "))
	}
	j.Role = *role
	return j, nil
}
