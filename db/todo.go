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

// TodoStore is the Postgres todo.Store. Which todos the caller sees and may
// change is the policies' decision (policies/todos.sql); the queries name the
// caller's lists themselves only where that lets the planner go straight to
// the right index.
type TodoStore struct{ db *DB }

// NewTodoStore returns a todo.Store backed by db.
func NewTodoStore(db *DB) *TodoStore { return &TodoStore{db: db} }

var _ todo.Store = (*TodoStore)(nil)

const todoColumns = `id, list_id, title, description, completed, due_at, created_at, updated_at, version`

// into is where a row of todoColumns goes, then extra columns after them.
func into(t *todo.Todo, extra ...any) []any {
	return append([]any{&t.ID, &t.ListID, &t.Title, &t.Description, &t.Completed, &t.DueAt, &t.CreatedAt, &t.UpdatedAt, &t.Version}, extra...)
}

func scanTodo(row pgx.CollectableRow) (todo.Todo, error) {
	var t todo.Todo
	err := row.Scan(into(&t)...)
	return t, err
}

// one runs a statement that returns exactly one todo row, or ErrNotFound.
func (s *TodoStore) one(ctx context.Context, c todo.Caller, readOnly bool, query string, args ...any) (todo.Todo, error) {
	var t todo.Todo
	err := s.db.asUser(ctx, c, readOnly, query, args, func(rows pgx.Rows) (err error) {
		t, err = pgx.CollectExactlyOneRow(rows, scanTodo)
		return err
	})
	return t, err
}

// newTodo is the row of a todo created in the list named by parameter list
// (”: the caller's personal list, made then if needed by the trigger
// app.default_to_personal_list). A list the caller cannot see creates nothing
// (404); one they may only view fails the insert policy (403).
func newTodo(list string) string {
	return `SELECT $1, $2, $3, $4, $5, NULLIF(` + list + `, '')::uuid
    WHERE NULLIF(` + list + `, '') IS NULL OR EXISTS (SELECT FROM lists WHERE id = NULLIF(` + list + `, '')::uuid)`
}

var createTodo = `INSERT INTO todos (user_id, title, description, completed, due_at, list_id)
` + newTodo("$6") + `
RETURNING ` + todoColumns

// createTodoOnce creates the todo and records the key with the response in
// the same statement. A key that is already there (committed before this
// statement) creates nothing and returns no row; one being inserted by a
// concurrent request fails this one with a unique violation, rolling it back.
var createTodoOnce = `WITH created AS (
    INSERT INTO todos (user_id, title, description, completed, due_at, list_id)
    ` + newTodo("$8") + `
      AND NOT EXISTS (SELECT FROM idempotency_keys WHERE user_id = $1 AND key = $6)
    RETURNING ` + todoColumns + `
), recorded AS (
    INSERT INTO idempotency_keys (user_id, key, request_hash, response)
    SELECT $1, $6, $7, to_jsonb(created) FROM created
)
SELECT ` + todoColumns + ` FROM created`

// Keys live 24 hours; expired ones of the user go before each keyed create.
const dropExpiredKeys = `DELETE FROM idempotency_keys WHERE user_id = $1 AND created_at < now() - interval '24 hours'`

// A replay answers with the stored response only while the caller can still
// see the todo: a member removed from its list, or a todo deleted since, gets
// 404, never the old copy.
const replayKey = `SELECT request_hash, response, EXISTS (SELECT FROM todos WHERE id = (response ->> 'id')::uuid)
FROM idempotency_keys WHERE user_id = $1 AND key = $2`

// Create stores a new todo owned by the caller; see todo.Store.
func (s *TodoStore) Create(ctx context.Context, c todo.Caller, f todo.Fields, key string) (todo.Todo, bool, error) {
	var t todo.Todo
	created := false
	collect := func(rows pgx.Rows) error {
		items, err := pgx.CollectRows(rows, scanTodo)
		if len(items) == 1 {
			t, created = items[0], true
		}
		return err
	}
	err := s.db.send(ctx, c, false, func(b *pgx.Batch) {
		if key == "" {
			b.Queue(createTodo, c.UserID, f.Title, f.Description, f.Completed, f.DueAt, f.ListID).Query(collect)
			return
		}
		b.Queue(dropExpiredKeys, c.UserID)
		b.Queue(createTodoOnce, c.UserID, f.Title, f.Description, f.Completed, f.DueAt, key, requestHash(f), f.ListID).Query(collect)
	})
	switch {
	case err == nil && key == "" && !created:
		return todo.Todo{}, false, todo.ErrNotFound // the list is not one the caller can see
	case errors.Is(err, todo.ErrConflict) && key != "": // a concurrent request holds the key: replay it
	case err != nil:
		return todo.Todo{}, false, err
	case created:
		return t, false, nil
	}
	return s.replay(ctx, c, f, key)
}

// replay answers a create whose key was used before: with the first response
// for the same request, else ErrKeyReused.
func (s *TodoStore) replay(ctx context.Context, c todo.Caller, f todo.Fields, key string) (todo.Todo, bool, error) {
	var storedHash, response []byte
	var visible bool
	err := s.db.asUser(ctx, c, true, replayKey, []any{c.UserID, key}, func(rows pgx.Rows) error {
		_, err := pgx.CollectExactlyOneRow(rows, func(row pgx.CollectableRow) (struct{}, error) {
			return struct{}{}, row.Scan(&storedHash, &response, &visible)
		})
		return err
	})
	switch {
	case err != nil:
		return todo.Todo{}, false, err
	case string(storedHash) != string(requestHash(f)):
		return todo.Todo{}, false, todo.ErrKeyReused
	case !visible:
		return todo.Todo{}, false, todo.ErrNotFound
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
	ListID      string     `json:"list_id"`
	Title       string     `json:"title"`
	Description string     `json:"description"`
	Completed   bool       `json:"completed"`
	DueAt       *time.Time `json:"due_at"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	Version     int64      `json:"version"`
}

func (r storedTodo) todo() todo.Todo {
	return todo.Todo{ID: r.ID, ListID: r.ListID, Title: r.Title, Description: r.Description, Completed: r.Completed, DueAt: r.DueAt,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Version: r.Version}
}

// requestHash identifies a create request by its content, so that a key
// replayed with another body is told apart.
func requestHash(f todo.Fields) []byte {
	b, _ := json.Marshal(f)
	sum := sha256.Sum256(b)
	return sum[:]
}

const getTodo = `SELECT ` + todoColumns + ` FROM todos WHERE id = $1`

// Get returns a todo the caller can see.
func (s *TodoStore) Get(ctx context.Context, c todo.Caller, id string) (todo.Todo, error) {
	return s.one(ctx, c, true, getTodo, id)
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

// myLists are the ids of the lists the caller is a member of, and
// writableLists those where they are an owner or editor, computed once per
// statement: the same sets the policies of policies/todos.sql allow.
const (
	myLists       = `ARRAY(SELECT app.my_lists('{owner,editor,viewer}'))`
	writableLists = `ARRAY(SELECT app.my_lists('{owner,editor}'))`
	ownedLists    = `ARRAY(SELECT app.my_lists('{owner}'))`
)

// where is f's conditions, its values appended to args: the caller's lists,
// or with a list named, that list if it is one of theirs (so that a list they
// cannot see is not read at all; the policy alone would drop its rows one by
// one).
func where(f todo.Filter, args []any) (string, []any) {
	list := "list_id = ANY (" + myLists + ")"
	if f.ListID != "" {
		args = append(args, f.ListID)
		list += " AND list_id = $" + strconv.Itoa(len(args))
	}
	cond, args := filters(f, args)
	return list + cond, args
}

// filters is f's conditions but the list, each led by " AND ".
func filters(f todo.Filter, args []any) (string, []any) {
	var sb strings.Builder
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	// completed is written into the statement rather than sent, so that a
	// plan Postgres keeps for it still knows which todos it reads: only then
	// can it use todos_list_id_open_created_at_idx (NOT completed).
	switch {
	case f.Completed != nil && *f.Completed:
		sb.WriteString(" AND completed")
	case f.Completed != nil:
		sb.WriteString(" AND NOT completed")
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
// order, one more than the page (n+1) to tell whether there is a next one. In
// one list that is one index scan from the cursor on.
//
// Across all the caller's lists it takes two steps, so that a member of 500
// lists reads about 500 rows, not 500 pages. First each list's head, its
// first row after the cursor (one short index probe per list), and of those
// the n+1 first: the page can hold rows of these lists only, since any other
// list's rows all come after n+1 heads. Then the rows of those lists, merged:
// the list whose head ranks r has r-1 heads of other lists before each of its
// rows, so no more than n+2-r of them can be in the page, and its index scan
// stops there. (A limit that varies also keeps the planner reading each list
// in the index's order: given a constant one, it may instead read and sort a
// whole list that it guesses is short.)
func listQuery(p todo.ListParams) (string, []any, error) {
	key, ok := sortKeys[p.Sort]
	if !ok {
		return "", nil, fmt.Errorf("%w: unknown sort %q", todo.ErrInvalid, p.Sort)
	}
	cond, args := filters(p.Filter, nil) // after list_id = <each list>
	if p.ListID != "" {
		cond, args = where(p.Filter, nil)
	}
	if p.After != nil {
		op := ">"
		if key.dir == "DESC" {
			op = "<"
		}
		args = append(args, p.After.Key, p.After.ID)
		cond += fmt.Sprintf(" AND (%s, id) %s ($%d::%s, $%d::uuid)", key.expr, op, len(args)-1, key.cast, len(args))
	}
	args = append(args, p.Limit+1)
	limit := "$" + strconv.Itoa(len(args))
	order := fmt.Sprintf("%s %s, id %s", key.expr, key.dir, key.dir)
	if p.ListID != "" {
		return fmt.Sprintf("SELECT %s, %s AS sort_key FROM todos WHERE %s ORDER BY %s LIMIT %s",
			todoColumns, key.expr, cond, order, limit), args, nil
	}
	return fmt.Sprintf(`WITH heads AS (
    SELECT h.list_id, row_number() OVER (ORDER BY h.sort_key %[1]s, h.id %[1]s) AS rank
    FROM unnest(%[2]s) AS my(list_id)
    CROSS JOIN LATERAL (SELECT list_id, %[3]s AS sort_key, id FROM todos
                        WHERE list_id = my.list_id%[4]s ORDER BY %[5]s LIMIT 1) h
    ORDER BY h.sort_key %[1]s, h.id %[1]s LIMIT %[6]s
)
SELECT t.* FROM heads
CROSS JOIN LATERAL (SELECT %[7]s, %[3]s AS sort_key FROM todos
                    WHERE list_id = heads.list_id%[4]s ORDER BY %[5]s LIMIT %[6]s + 1 - heads.rank) t
ORDER BY t.sort_key %[1]s, t.id %[1]s LIMIT %[6]s`,
		key.dir, myLists, key.expr, cond, order, limit, todoColumns), args, nil
}

// List returns one page of the todos the caller can see; see todo.ListParams.
func (s *TodoStore) List(ctx context.Context, c todo.Caller, p todo.ListParams) (todo.Page, error) {
	query, args, err := listQuery(p)
	if err != nil {
		return todo.Page{}, err
	}
	page := todo.Page{Items: make([]todo.Todo, 0, p.Limit)}
	err = s.inList(ctx, c, true, p.ListID, func(b *pgx.Batch) {
		b.Queue(query, args...).Query(func(rows pgx.Rows) error {
			var t todo.Todo
			dest := into(&t, nil) // the sort key is skipped: the cursor takes it from the todo itself
			for rows.Next() {
				if len(page.Items) == p.Limit { // the extra row: there is a next page
					page.Next = todo.After(p.Sort, page.Items[len(page.Items)-1])
					return nil
				}
				t = todo.Todo{}
				if err := rows.Scan(dest...); err != nil {
					return err
				}
				page.Items = append(page.Items, t)
			}
			return rows.Err()
		})
	})
	return page, err
}

// inList runs queue's statements, and with a list named, asks in the same
// transaction whether the caller can see that list: one they cannot is
// ErrNotFound, whatever the statements found (nothing).
func (s *TodoStore) inList(ctx context.Context, c todo.Caller, readOnly bool, list string, queue func(*pgx.Batch)) error {
	visible := true
	err := s.db.send(ctx, c, readOnly, func(b *pgx.Batch) {
		queue(b)
		if list != "" {
			b.Queue(listVisible, list).QueryRow(func(row pgx.Row) error { return row.Scan(&visible) })
		}
	})
	if err == nil && !visible {
		return todo.ErrNotFound
	}
	return err
}

const summary = `SELECT count(*), count(*) FILTER (WHERE NOT completed), count(*) FILTER (WHERE completed)
FROM todos WHERE `

// Summary counts the todos of one list, or of all the caller's lists.
func (s *TodoStore) Summary(ctx context.Context, c todo.Caller, listID string) (todo.Summary, error) {
	var sum todo.Summary
	cond, args := where(todo.Filter{ListID: listID}, nil)
	err := s.inList(ctx, c, true, listID, func(b *pgx.Batch) {
		b.Queue(summary+cond, args...).QueryRow(func(row pgx.Row) error {
			return row.Scan(&sum.Total, &sum.Active, &sum.Completed)
		})
	})
	return sum, err
}

// conditional wraps a single-row write so that it applies only at one of the
// versions in $2 (NULL: any), atomically: the version is checked on the row
// the write locks. Its row says what happened: the written row (applied), the
// row as the caller sees it, unchanged, with whether the caller may write in
// its list at all (if so, the version did not match: 412; else the policies
// refused the write: 403), or none (404: not there, or not visible).
func conditional(write string) string {
	return `WITH w AS (` + write + ` WHERE id = $1 AND ($2::bigint[] IS NULL OR version = ANY($2)) RETURNING ` + todoColumns + `)
SELECT ` + todoColumns + `, true, true FROM w
UNION ALL
SELECT ` + todoColumns + `, false, list_id = ANY (` + writableLists + `) FROM todos WHERE id = $1 AND NOT EXISTS (SELECT FROM w)`
}

var (
	replaceTodo = conditional(`UPDATE todos SET title = $3, description = $4, completed = $5, due_at = $6`)
	// updateTodo changes only the fields given, in one statement.
	updateTodo = conditional(`UPDATE todos
SET title       = COALESCE($3, title),
    description = COALESCE($4, description),
    completed   = COALESCE($5, completed),
    due_at      = CASE WHEN $6 THEN $7 ELSE due_at END`)
	deleteTodo = conditional(`DELETE FROM todos`)
)

// written runs a conditional write and tells its outcomes apart.
func (s *TodoStore) written(ctx context.Context, c todo.Caller, query string, args ...any) (todo.Todo, error) {
	var t todo.Todo
	var applied, writable bool
	err := s.db.asUser(ctx, c, false, query, args, func(rows pgx.Rows) error {
		_, err := pgx.CollectExactlyOneRow(rows, func(row pgx.CollectableRow) (struct{}, error) {
			return struct{}{}, row.Scan(into(&t, &applied, &writable)...)
		})
		return err
	})
	return t, outcome(err, applied, writable)
}

// asNow is a conditional write's outcome, with the row as it is now when the
// write was refused for its version, for the 412's ETag: the write's own
// read of the row keeps its statement's snapshot, which may predate the
// write it lost to (under READ COMMITTED only the write itself re-checks the
// newest version). get reads it again, in a fresh statement; a row gone since
// is ErrNotFound, as a retry would find.
func asNow[T any](ctx context.Context, row T, err error, get func(context.Context) (T, error)) (T, error) {
	if !errors.Is(err, todo.ErrPreconditionFailed) {
		return row, err
	}
	now, getErr := get(ctx)
	switch {
	case errors.Is(getErr, todo.ErrNotFound):
		return now, getErr
	case getErr != nil:
		return row, err
	}
	return now, err
}

// Replace overwrites every writable field of a todo the caller may change.
func (s *TodoStore) Replace(ctx context.Context, c todo.Caller, id string, f todo.Fields, ifMatch todo.Versions) (todo.Todo, error) {
	t, err := s.written(ctx, c, replaceTodo, id, versions(ifMatch), f.Title, f.Description, f.Completed, f.DueAt)
	return asNow(ctx, t, err, func(ctx context.Context) (todo.Todo, error) { return s.Get(ctx, c, id) })
}

// Update applies a partial change to a todo the caller may change.
func (s *TodoStore) Update(ctx context.Context, c todo.Caller, id string, p todo.Patch, ifMatch todo.Versions) (todo.Todo, error) {
	t, err := s.written(ctx, c, updateTodo, id, versions(ifMatch), p.Title, p.Description, p.Completed, p.SetDueAt, p.DueAt)
	return asNow(ctx, t, err, func(ctx context.Context) (todo.Todo, error) { return s.Get(ctx, c, id) })
}

// Delete removes a todo the caller may change.
func (s *TodoStore) Delete(ctx context.Context, c todo.Caller, id string, ifMatch todo.Versions) error {
	_, err := s.written(ctx, c, deleteTodo, id, versions(ifMatch))
	return err
}

// versions passes nil as SQL NULL (any version) and keeps an empty list empty.
func versions(v todo.Versions) any {
	if v == nil {
		return nil
	}
	return []int64(v)
}

// bulk runs write on the todos that f (and, given $v, narrow) select, the
// rows of CTE selected, and counts what it changed and what the policies
// left alone: rows the caller sees but may not change.
func (s *TodoStore) bulk(ctx context.Context, c todo.Caller, f todo.Filter, narrow, write func(v string) string, value ...any) (todo.Bulk, error) {
	cond, args := where(f, nil)
	args = append(args, value...)
	v := "$" + strconv.Itoa(len(args))
	query := fmt.Sprintf(`WITH selected AS (SELECT id FROM todos WHERE %s%s),
changed AS (%s RETURNING 1)
SELECT (SELECT count(*) FROM changed), (SELECT count(*) FROM selected) - (SELECT count(*) FROM changed)`,
		cond, narrow(v), write(v))
	var n todo.Bulk
	err := s.inList(ctx, c, false, f.ListID, func(b *pgx.Batch) {
		b.Queue(query, args...).QueryRow(func(row pgx.Row) error { return row.Scan(&n.Changed, &n.ReadOnly) })
	})
	return n, err
}

// SetCompleted marks every todo that f selects; see todo.Store.
func (s *TodoStore) SetCompleted(ctx context.Context, c todo.Caller, f todo.Filter, completed bool) (todo.Bulk, error) {
	return s.bulk(ctx, c, f,
		func(v string) string { return " AND completed <> " + v },
		func(v string) string {
			return "UPDATE todos t SET completed = " + v + " FROM selected WHERE t.id = selected.id"
		},
		completed)
}

// DeleteAll deletes every todo that f selects; see todo.Store.
func (s *TodoStore) DeleteAll(ctx context.Context, c todo.Caller, f todo.Filter) (todo.Bulk, error) {
	return s.bulk(ctx, c, f,
		func(string) string { return "" },
		func(string) string { return "DELETE FROM todos t USING selected WHERE t.id = selected.id" })
}
