package todo

import (
	"context"
	"errors"
	"time"
)

// The roles a member has in a list: viewers read the list and its todos,
// editors also create, change and delete todos, owners also rename or delete
// the list and manage its members and invitations. The database's policies
// (policies/*.sql) are what enforce them.
const (
	RoleOwner  = "owner"
	RoleEditor = "editor"
	RoleViewer = "viewer"
)

// Roles are every role, strongest first.
var Roles = []string{RoleOwner, RoleEditor, RoleViewer}

// InvitableRoles are the roles an invitation can give; owners are made by
// an owner, explicitly.
var InvitableRoles = []string{RoleEditor, RoleViewer}

// Limits of lists and invitations, shared by the API's validation and the
// database's CHECK constraints.
const (
	MaxListNameLen          = 200
	MaxInvitationUses       = 1000
	DefaultInvitationUses   = 1
	MinInvitationLifetime   = time.Minute
	MaxInvitationLifetime   = 30 * 24 * time.Hour
	DefaultInvitationExpiry = 7 * 24 * time.Hour
	// Me names the caller where a member's user id is expected.
	Me = "me"
)

// More errors of the sharing operations.
var (
	// ErrLastOwner means the change would leave a list without an owner.
	ErrLastOwner = errors.New("a list must keep at least one owner")
	// ErrPersonalOwner means the change would remove or demote the person
	// whose personal list it is.
	ErrPersonalOwner = errors.New("a personal list keeps its person as an owner")
	// ErrInvitationUnusable means the invitation exists but was revoked,
	// has expired or is used up; the error says which.
	ErrInvitationUnusable = errors.New("invitation cannot be used")
)

// List is a named collection of todos shared by its members.
type List struct {
	ID          string    `json:"id" format:"uuid" doc:"Server-generated identifier."`
	Name        string    `json:"name" doc:"The list's name."`
	Personal    bool      `json:"personal" doc:"Whether this is my personal list: where a todo goes when no list is named."`
	MyRole      string    `json:"my_role" doc:"My role in this list: owner, editor or viewer."`
	MemberCount int64     `json:"member_count" doc:"How many people are members."`
	CreatedAt   time.Time `json:"created_at" doc:"When it was created (server time)."`
	UpdatedAt   time.Time `json:"updated_at" doc:"When it was last renamed (server time)."`
	Version     int64     `json:"-"` // the ETag
}

// ListPage is one page of the caller's lists, newest first.
type ListPage struct {
	Items []List
	Next  *Cursor
}

// Member is one person's membership of a list.
type Member struct {
	UserID  string    `json:"user_id" doc:"The member's user id (their JWT subject)."`
	Role    string    `json:"role" doc:"owner, editor or viewer."`
	AddedBy string    `json:"added_by" doc:"Who added them (for an invitation: who created it)."`
	AddedAt time.Time `json:"added_at" doc:"When they became a member."`
}

// Invitation lets whoever holds its token join a list with its role, until
// it expires, is revoked or is used up. Only the token's hash is stored: the
// token itself is shown once, when the invitation is made.
type Invitation struct {
	ID        string     `json:"id" format:"uuid" doc:"Server-generated identifier."`
	ListID    string     `json:"list_id" format:"uuid" doc:"The list it lets people join."`
	Token     string     `json:"token,omitempty" doc:"The secret to accept it with; only in the answer that created it."`
	Role      string     `json:"role" doc:"The role it gives: editor or viewer."`
	MaxUses   int        `json:"max_uses" doc:"How many people may accept it."`
	Uses      int        `json:"uses" doc:"How many have."`
	ExpiresAt time.Time  `json:"expires_at" doc:"When it stops working."`
	RevokedAt *time.Time `json:"revoked_at" doc:"When an owner revoked it, or null."`
	CreatedBy string     `json:"created_by" doc:"The owner who made it."`
	CreatedAt time.Time  `json:"created_at" doc:"When it was made."`
}

// NewInvitation is what an owner asks for.
type NewInvitation struct {
	Role      string
	MaxUses   int
	ExpiresAt time.Time
}

// Joined is the outcome of accepting an invitation.
type Joined struct {
	ListID string `json:"list_id" format:"uuid" doc:"The list joined."`
	Role   string `json:"role" doc:"My role there (unchanged if I was a member already)."`
}

// ListStore keeps lists, their members and invitations. Like Store, every
// method acts as the Caller and the database decides what that may see and
// change: a list the caller cannot see is ErrNotFound, one they see but may
// not change is ErrForbidden.
type ListStore interface {
	CreateList(ctx context.Context, c Caller, name string) (List, error)
	Lists(ctx context.Context, c Caller, limit int, after *Cursor) (ListPage, error)
	GetList(ctx context.Context, c Caller, id string) (List, error)
	RenameList(ctx context.Context, c Caller, id, name string, ifMatch Versions) (List, error)
	DeleteList(ctx context.Context, c Caller, id string, ifMatch Versions) error

	// Members lists a list's members by user id, after the given one.
	Members(ctx context.Context, c Caller, listID string, limit int, after string) ([]Member, error)
	AddMember(ctx context.Context, c Caller, listID, userID, role string) (Member, error)
	SetRole(ctx context.Context, c Caller, listID, userID, role string) (Member, error)
	RemoveMember(ctx context.Context, c Caller, listID, userID string) error

	CreateInvitation(ctx context.Context, c Caller, listID string, inv NewInvitation) (Invitation, error)
	Invitations(ctx context.Context, c Caller, listID string) ([]Invitation, error)
	RevokeInvitation(ctx context.Context, c Caller, listID, id string) error
	// AcceptInvitation makes the caller a member of the invitation's list.
	AcceptInvitation(ctx context.Context, c Caller, token string) (Joined, error)
}
