package db

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/todoapi/todoapi/internal/todo"
)

// TodoStore is the Postgres todo.Store. Every query also says
// `user_id = $n` itself: row-level security is the guarantee, the explicit
// filter lets the planner use the (user_id, created_at) index directly.
type TodoStore struct{ db *DB }

// NewTodoStore returns a todo.Store backed by db.
func NewTodoStore(db *DB) *TodoStore { return &TodoStore{db: db} }

var _ todo.Store = (*TodoStore)(nil)

const todoColumns = `id, title, description, completed, due_at, created_at, updated_at`

func scanTodo(row pgx.CollectableRow) (todo.Todo, error) {
	var t todo.Todo
	err := row.Scan(&t.ID, &t.Title, &t.Description, &t.Completed, &t.DueAt, &t.CreatedAt, &t.UpdatedAt)
	return t, err
}

// one runs a statement that returns exactly one todo row, or ErrNotFound.
func (s *TodoStore) one(ctx context.Context, userID, query string, args ...any) (todo.Todo, error) {
	var t todo.Todo
	err := s.db.asUser(ctx, userID, query, args, func(rows pgx.Rows) (err error) {
		t, err = pgx.CollectExactlyOneRow(rows, scanTodo)
		return err
	})
	return t, err
}

const createTodo = `INSERT INTO todos (user_id, title, description, completed, due_at)
VALUES ($1, $2, $3, $4, $5)
RETURNING ` + todoColumns

// Create stores a new todo owned by userID.
func (s *TodoStore) Create(ctx context.Context, userID string, f todo.Fields) (todo.Todo, error) {
	return s.one(ctx, userID, createTodo, userID, f.Title, f.Description, f.Completed, f.DueAt)
}

const getTodo = `SELECT ` + todoColumns + ` FROM todos WHERE id = $1 AND user_id = $2`

// Get returns one of userID's todos.
func (s *TodoStore) Get(ctx context.Context, userID, id string) (todo.Todo, error) {
	return s.one(ctx, userID, getTodo, id, userID)
}

const listTodos = `SELECT ` + todoColumns + ` FROM todos
WHERE user_id = $1
ORDER BY created_at DESC, id DESC
LIMIT $2`

// List returns userID's newest todos, at most limit of them.
func (s *TodoStore) List(ctx context.Context, userID string, limit int) (todo.Page, error) {
	page := todo.Page{Items: []todo.Todo{}}
	err := s.db.asUser(ctx, userID, listTodos, []any{userID, limit}, func(rows pgx.Rows) (err error) {
		page.Items, err = pgx.AppendRows(page.Items, rows, scanTodo)
		return err
	})
	return page, err
}

const replaceTodo = `UPDATE todos
SET title = $3, description = $4, completed = $5, due_at = $6
WHERE id = $1 AND user_id = $2
RETURNING ` + todoColumns

// Replace overwrites every writable field of one of userID's todos.
func (s *TodoStore) Replace(ctx context.Context, userID, id string, f todo.Fields) (todo.Todo, error) {
	return s.one(ctx, userID, replaceTodo, id, userID, f.Title, f.Description, f.Completed, f.DueAt)
}

// updateTodo changes only the fields given, in one statement: no
// read-then-write race between two concurrent patches.
const updateTodo = `UPDATE todos
SET title       = COALESCE($3, title),
    description = COALESCE($4, description),
    completed   = COALESCE($5, completed),
    due_at      = CASE WHEN $6 THEN $7 ELSE due_at END
WHERE id = $1 AND user_id = $2
RETURNING ` + todoColumns

// Update applies a partial change to one of userID's todos.
func (s *TodoStore) Update(ctx context.Context, userID, id string, p todo.Patch) (todo.Todo, error) {
	return s.one(ctx, userID, updateTodo, id, userID, p.Title, p.Description, p.Completed, p.SetDueAt, p.DueAt)
}

const deleteTodo = `DELETE FROM todos WHERE id = $1 AND user_id = $2 RETURNING id`

// Delete removes one of userID's todos.
func (s *TodoStore) Delete(ctx context.Context, userID, id string) error {
	return s.db.asUser(ctx, userID, deleteTodo, []any{id, userID}, func(rows pgx.Rows) error {
		_, err := pgx.CollectExactlyOneRow(rows, pgx.RowTo[string])
		return err
	})
}
