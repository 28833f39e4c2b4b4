package db

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/todoapi/todoapi/internal/todo"
)

// TodoStore is the Postgres todo.Store. Every query also says
// `user_id = $n` itself: row-level security is the guarantee, the explicit
// filter lets the planner use the user's indexes directly.
type TodoStore struct{ db *DB }

// NewTodoStore returns a todo.Store backed by db.
func NewTodoStore(db *DB) *TodoStore { return &TodoStore{db: db} }

var _ todo.Store = (*TodoStore)(nil)

const todoColumns = `id, title, description, completed, due_at, created_at, updated_at, version`

func scanTodo(row pgx.CollectableRow) (todo.Todo, error) {
	var t todo.Todo
	err := row.Scan(&t.ID, &t.Title, &t.Description, &t.Completed, &t.DueAt, &t.CreatedAt, &t.UpdatedAt, &t.Version)
	return t, err
}

// one runs a statement that returns exactly one todo row, or ErrNotFound.
func (s *TodoStore) one(ctx context.Context, userID string, readOnly bool, query string, args ...any) (todo.Todo, error) {
	var t todo.Todo
	err := s.db.asUser(ctx, userID, readOnly, query, args, func(rows pgx.Rows) (err error) {
		t, err = pgx.CollectExactlyOneRow(rows, scanTodo)
		return err
	})
	return t, err
}

// count runs a statement and returns how many rows it affected.
func (s *TodoStore) count(ctx context.Context, userID, query string, args ...any) (int64, error) {
	var n int64
	err := s.db.asUser(ctx, userID, false, query, args, func(rows pgx.Rows) error {
		for rows.Next() {
		}
		n = rows.CommandTag().RowsAffected()
		return rows.Err()
	})
	return n, err
}

const createTodo = `INSERT INTO todos (user_id, title, description, completed, due_at)
VALUES ($1, $2, $3, $4, $5)
RETURNING ` + todoColumns

// createTodoOnce creates the todo and records the key with the response in
// the same statement. A key that is already there (committed before this
// statement) creates nothing and returns no row; one being inserted by a
// concurrent request fails this one with a unique violation, rolling it back.
const createTodoOnce = `WITH created AS (
    INSERT INTO todos (user_id, title, description, completed, due_at)
    SELECT $1, $2, $3, $4, $5
    WHERE NOT EXISTS (SELECT FROM idempotency_keys WHERE user_id = $1 AND key = $6)
    RETURNING ` + todoColumns + `
), recorded AS (
    INSERT INTO idempotency_keys (user_id, key, request_hash, response)
    SELECT $1, $6, $7, to_jsonb(created) FROM created
)
SELECT ` + todoColumns + ` FROM created`

// Keys live 24 hours; expired ones of the user go before each keyed create.
const dropExpiredKeys = `DELETE FROM idempotency_keys WHERE user_id = $1 AND created_at < now() - interval '24 hours'`

const replayKey = `SELECT request_hash, response FROM idempotency_keys WHERE user_id = $1 AND key = $2`

// Create stores a new todo owned by userID; see todo.Store.
func (s *TodoStore) Create(ctx context.Context, userID string, f todo.Fields, key string) (todo.Todo, bool, error) {
	if key == "" {
		t, err := s.one(ctx, userID, false, createTodo, userID, f.Title, f.Description, f.Completed, f.DueAt)
		return t, false, err
	}
	hash := requestHash(f)
	var t todo.Todo
	created := false
	err := s.db.send(ctx, userID, false, func(b *pgx.Batch) {
		b.Queue(dropExpiredKeys, userID)
		b.Queue(createTodoOnce, userID, f.Title, f.Description, f.Completed, f.DueAt, key, hash).Query(func(rows pgx.Rows) (err error) {
			items, err := pgx.CollectRows(rows, scanTodo)
			if len(items) == 1 {
				t, created = items[0], true
			}
			return err
		})
	})
	switch {
	case errors.Is(err, todo.ErrConflict): // a concurrent request holds the key: replay it
	case err != nil:
		return todo.Todo{}, false, err
	case created:
		return t, false, nil
	}
	var storedHash []byte
	var response []byte
	err = s.db.asUser(ctx, userID, true, replayKey, []any{userID, key}, func(rows pgx.Rows) error {
		_, err := pgx.CollectExactlyOneRow(rows, func(row pgx.CollectableRow) (struct{}, error) {
			return struct{}{}, row.Scan(&storedHash, &response)
		})
		return err
	})
	if err != nil {
		return todo.Todo{}, false, err
	}
	if string(storedHash) != string(hash) {
		return todo.Todo{}, false, todo.ErrKeyReused
	}
	var row storedTodo
	if err := json.Unmarshal(response, &row); err != nil {
		return todo.Todo{}, false, fmt.Errorf("stored response: %w", err)
	}
	return row.todo(), true, nil
}

// storedTodo reads to_jsonb(todos row), as kept with an idempotency key.
type storedTodo struct {
	ID          string     `json:"id"`
	Title       string     `json:"title"`
	Description string     `json:"description"`
	Completed   bool       `json:"completed"`
	DueAt       *time.Time `json:"due_at"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	Version     int64      `json:"version"`
}

func (r storedTodo) todo() todo.Todo {
	return todo.Todo{ID: r.ID, Title: r.Title, Description: r.Description, Completed: r.Completed, DueAt: r.DueAt,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Version: r.Version}
}

// requestHash identifies a create request by its content, so that a key
// replayed with another body is told apart.
func requestHash(f todo.Fields) []byte {
	b, _ := json.Marshal(f)
	sum := sha256.Sum256(b)
	return sum[:]
}

const getTodo = `SELECT ` + todoColumns + ` FROM todos WHERE id = $1 AND user_id = $2`

// Get returns one of userID's todos.
func (s *TodoStore) Get(ctx context.Context, userID, id string) (todo.Todo, error) {
	return s.one(ctx, userID, true, getTodo, id, userID)
}

// sortKeys maps each sort to its key expression (as in the indexes), the
// type a cursor's key is cast to, and the direction.
var sortKeys = map[string]struct{ expr, cast, dir string }{
	"-created_at": {"created_at", "timestamptz", "DESC"},
	"created_at":  {"created_at", "timestamptz", "ASC"},
	"-due_at":     {"due_sort", "timestamptz", "DESC"},
	"due_at":      {"due_sort", "timestamptz", "ASC"},
	"-title":      {"title", "text", "DESC"},
	"title":       {"title", "text", "ASC"},
}

// where appends f's conditions (after user_id = $1) to args.
func where(f todo.Filter, args []any) (string, []any) {
	var sb strings.Builder
	sb.WriteString("user_id = $1")
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.Completed != nil {
		sb.WriteString(" AND completed = " + arg(*f.Completed))
	}
	if f.Query != "" {
		escaped := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(f.Query)
		sb.WriteString(" AND title ILIKE " + arg("%"+escaped+"%"))
	}
	if f.DueBefore != nil {
		sb.WriteString(" AND due_at < " + arg(*f.DueBefore))
	}
	if f.DueAfter != nil {
		sb.WriteString(" AND due_at > " + arg(*f.DueAfter))
	}
	return sb.String(), args
}

// listQuery builds the keyset query of p: rows after the cursor in the sort's
// order, one more than the page to tell whether there is a next one.
func listQuery(userID string, p todo.ListParams) (string, []any, error) {
	key, ok := sortKeys[p.Sort]
	if !ok {
		return "", nil, fmt.Errorf("%w: unknown sort %q", todo.ErrInvalid, p.Sort)
	}
	cond, args := where(p.Filter, []any{userID})
	if p.After != nil {
		op := ">"
		if key.dir == "DESC" {
			op = "<"
		}
		args = append(args, p.After.Key, p.After.ID)
		cond += fmt.Sprintf(" AND (%s, id) %s ($%d::%s, $%d::uuid)", key.expr, op, len(args)-1, key.cast, len(args))
	}
	args = append(args, p.Limit+1)
	return fmt.Sprintf("SELECT %s FROM todos WHERE %s ORDER BY %s %s, id %s LIMIT $%d",
		todoColumns, cond, key.expr, key.dir, key.dir, len(args)), args, nil
}

// List returns one page of userID's todos; see todo.ListParams.
func (s *TodoStore) List(ctx context.Context, userID string, p todo.ListParams) (todo.Page, error) {
	query, args, err := listQuery(userID, p)
	if err != nil {
		return todo.Page{}, err
	}
	page := todo.Page{Items: make([]todo.Todo, 0, p.Limit+1)}
	err = s.db.asUser(ctx, userID, true, query, args, func(rows pgx.Rows) error {
		for rows.Next() {
			if len(page.Items) == p.Limit { // the extra row: there is a next page
				page.Next = todo.After(p.Sort, page.Items[len(page.Items)-1])
				return nil
			}
			t, err := scanTodo(rows)
			if err != nil {
				return err
			}
			page.Items = append(page.Items, t)
		}
		return rows.Err()
	})
	return page, err
}

const summary = `SELECT count(*), count(*) FILTER (WHERE NOT completed), count(*) FILTER (WHERE completed)
FROM todos WHERE user_id = $1`

// Summary counts userID's todos.
func (s *TodoStore) Summary(ctx context.Context, userID string) (todo.Summary, error) {
	var sum todo.Summary
	err := s.db.asUser(ctx, userID, true, summary, []any{userID}, func(rows pgx.Rows) error {
		_, err := pgx.CollectExactlyOneRow(rows, func(row pgx.CollectableRow) (struct{}, error) {
			return struct{}{}, row.Scan(&sum.Total, &sum.Active, &sum.Completed)
		})
		return err
	})
	return sum, err
}

// conditional wraps a single-row write so that it applies only at one of the
// versions in $3 (NULL: any), atomically: the version is checked on the row
// the write locks. Its rows say what happened: the written row (applied
// true), the row's current state unchanged (applied false: 412), or none (404).
func conditional(write string) string {
	return `WITH w AS (` + write + ` WHERE id = $1 AND user_id = $2 AND ($3::bigint[] IS NULL OR version = ANY($3)) RETURNING ` + todoColumns + `)
SELECT ` + todoColumns + `, true FROM w
UNION ALL
SELECT ` + todoColumns + `, false FROM todos WHERE id = $1 AND user_id = $2 AND NOT EXISTS (SELECT FROM w)`
}

var (
	replaceTodo = conditional(`UPDATE todos SET title = $4, description = $5, completed = $6, due_at = $7`)
	// updateTodo changes only the fields given, in one statement.
	updateTodo = conditional(`UPDATE todos
SET title       = COALESCE($4, title),
    description = COALESCE($5, description),
    completed   = COALESCE($6, completed),
    due_at      = CASE WHEN $7 THEN $8 ELSE due_at END`)
	deleteTodo = conditional(`DELETE FROM todos`)
)

// written runs a conditional write and tells its three outcomes apart.
func (s *TodoStore) written(ctx context.Context, userID, query string, args ...any) (todo.Todo, error) {
	var t todo.Todo
	var applied bool
	err := s.db.asUser(ctx, userID, false, query, args, func(rows pgx.Rows) error {
		_, err := pgx.CollectExactlyOneRow(rows, func(row pgx.CollectableRow) (struct{}, error) {
			return struct{}{}, row.Scan(&t.ID, &t.Title, &t.Description, &t.Completed, &t.DueAt, &t.CreatedAt, &t.UpdatedAt, &t.Version, &applied)
		})
		return err
	})
	if err == nil && !applied {
		err = todo.ErrPreconditionFailed
	}
	return t, err
}

// Replace overwrites every writable field of one of userID's todos.
func (s *TodoStore) Replace(ctx context.Context, userID, id string, f todo.Fields, ifMatch todo.Versions) (todo.Todo, error) {
	return s.written(ctx, userID, replaceTodo, id, userID, versions(ifMatch), f.Title, f.Description, f.Completed, f.DueAt)
}

// Update applies a partial change to one of userID's todos.
func (s *TodoStore) Update(ctx context.Context, userID, id string, p todo.Patch, ifMatch todo.Versions) (todo.Todo, error) {
	return s.written(ctx, userID, updateTodo, id, userID, versions(ifMatch), p.Title, p.Description, p.Completed, p.SetDueAt, p.DueAt)
}

// Delete removes one of userID's todos.
func (s *TodoStore) Delete(ctx context.Context, userID, id string, ifMatch todo.Versions) error {
	_, err := s.written(ctx, userID, deleteTodo, id, userID, versions(ifMatch))
	return err
}

// versions passes nil as SQL NULL (any version) and keeps an empty list empty.
func versions(v todo.Versions) any {
	if v == nil {
		return nil
	}
	return []int64(v)
}

// SetCompleted marks every todo of userID that f selects; see todo.Store.
func (s *TodoStore) SetCompleted(ctx context.Context, userID string, f todo.Filter, completed bool) (int64, error) {
	cond, args := where(f, []any{userID})
	args = append(args, completed)
	return s.count(ctx, userID, fmt.Sprintf("UPDATE todos SET completed = $%d WHERE %s AND completed <> $%d", len(args), cond, len(args)), args...)
}

// DeleteAll deletes every todo of userID that f selects; see todo.Store.
func (s *TodoStore) DeleteAll(ctx context.Context, userID string, f todo.Filter) (int64, error) {
	cond, args := where(f, []any{userID})
	return s.count(ctx, userID, "DELETE FROM todos WHERE "+cond, args...)
}
