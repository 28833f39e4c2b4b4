package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/todoapi/todoapi/internal/auth"
	"github.com/todoapi/todoapi/internal/todo"
)

// ListPath is the path parameter of the operations on one list (exported,
// as Huma reads only exported embedded parameter structs).
type ListPath struct {
	ListID string `path:"list_id" format:"uuid" doc:"The list's id."`
}

// MemberPath names one member of one list.
type MemberPath struct {
	ListPath
	UserID string `path:"user_id" minLength:"1" maxLength:"255" doc:"The member's user id, or me for myself."`
}

// member is the user id a path names: "me" is the caller.
func (p MemberPath) member(ctx context.Context) string {
	if p.UserID == todo.Me {
		return userID(ctx)
	}
	return p.UserID
}

// listETag is a list's strong entity tag: its version, which a rename bumps.
func listETag(l todo.List) string { return `"` + strconv.FormatInt(l.Version, 10) + `"` }

type oneListOutput struct {
	ETag string `header:"ETag" doc:"The list's version; send it back in If-Match to rename or delete it only if nobody renamed it since."`
	Body todo.List
}

func oneListOut(l todo.List) *oneListOutput { return &oneListOutput{ETag: listETag(l), Body: l} }

type listNameBody struct {
	Name string `json:"name" pattern:"\\S" doc:"The list's name."`
}

type createListInput struct {
	Body listNameBody
}

type createListOutput struct {
	Location string `header:"Location" doc:"Where the new list lives."`
	ETag     string `header:"ETag" doc:"The list's version."`
	Body     todo.List
}

func (s *server) createList(ctx context.Context, in *createListInput) (*createListOutput, error) {
	l, err := s.Lists.CreateList(ctx, caller(ctx), in.Body.Name)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &createListOutput{Location: "/v1/lists/" + l.ID, ETag: listETag(l), Body: l}, nil
}

type listListsInput struct {
	Limit  int    `query:"limit" doc:"Page size."`
	Cursor string `query:"cursor" maxLength:"2048" doc:"next_cursor of the previous page."`
}

type listListsOutput struct {
	Link string `header:"Link" doc:"RFC 8288 link to the next page (rel=next), when there is one."`
	Body struct {
		Items      []todo.List `json:"items" doc:"One page of the lists I am a member of, newest first."`
		NextCursor *string     `json:"next_cursor" doc:"Pass as cursor for the next page; null on the last page."`
	}
}

func (s *server) listLists(ctx context.Context, in *listListsInput) (*listListsOutput, error) {
	c := caller(ctx)
	if in.Limit == 0 {
		in.Limit = todo.DefaultPageSize
	}
	var after *todo.Cursor
	if in.Cursor != "" {
		var err error
		if after, err = s.Cursors.Decode(in.Cursor, c.UserID, todo.DefaultSort); err != nil {
			return nil, s.problem(ctx, err)
		}
	}
	page, err := s.Lists.Lists(ctx, c, in.Limit, after)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &listListsOutput{}
	out.Body.Items = page.Items
	if page.Next != nil {
		next := s.Cursors.Encode(*page.Next, c.UserID)
		out.Body.NextCursor = &next
		out.Link = `</v1/lists?limit=` + strconv.Itoa(in.Limit) + `&cursor=` + next + `>; rel="next"`
	}
	return out, nil
}

type getListInput struct {
	ListPath
}

func (s *server) getList(ctx context.Context, in *getListInput) (*oneListOutput, error) {
	l, err := s.Lists.GetList(ctx, caller(ctx), in.ListID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return oneListOut(l), nil
}

type renameListInput struct {
	ListPath
	WriteConditions
	Body listNameBody
}

func (s *server) renameList(ctx context.Context, in *renameListInput) (*oneListOutput, error) {
	l, err := s.Lists.RenameList(ctx, caller(ctx), in.ListID, in.Body.Name, ifMatch(in.IfMatch))
	if err != nil {
		if errors.Is(err, todo.ErrPreconditionFailed) {
			return nil, huma.ErrorWithHeaders(s.problem(ctx, err), http.Header{"ETag": {listETag(l)}})
		}
		return nil, s.problem(ctx, err)
	}
	return oneListOut(l), nil
}

type deleteListInput struct {
	ListPath
	WriteConditions
}

func (s *server) deleteList(ctx context.Context, in *deleteListInput) (*struct{}, error) {
	if err := s.Lists.DeleteList(ctx, caller(ctx), in.ListID, ifMatch(in.IfMatch)); err != nil {
		return nil, s.problem(ctx, err)
	}
	return nil, nil
}

type listMembersInput struct {
	ListPath
	Limit int    `query:"limit" doc:"Page size."`
	After string `query:"after" maxLength:"255" doc:"The last user_id of the previous page."`
}

type membersOutput struct {
	Body struct {
		Items []todo.Member `json:"items" doc:"Members, by user id."`
	}
}

func (s *server) listMembers(ctx context.Context, in *listMembersInput) (*membersOutput, error) {
	if in.Limit == 0 {
		in.Limit = todo.MaxPageSize
	}
	members, err := s.Lists.Members(ctx, caller(ctx), in.ListID, in.Limit, in.After)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &membersOutput{}
	out.Body.Items = members
	return out, nil
}

// RoleField is a member's role in a body (exported, as Huma flattens only
// exported embedded structs).
type RoleField struct {
	Role string `json:"role" doc:"owner: everything, members included; editor: the todos; viewer: read only."`
}

type addMemberInput struct {
	ListPath
	Body newMember
}

type newMember struct {
	UserID string `json:"user_id" minLength:"1" maxLength:"255" doc:"Who to add: their user id (JWT subject; not \"me\", no control characters)."`
	RoleField
}

// Resolve holds a new member's id to what a token's subject may be
// (auth.CheckSubject): an id no token can carry could never use the list,
// and "me" could not be named in a path.
func (b *newMember) Resolve(huma.Context) []error {
	if err := auth.CheckSubject(b.UserID); err != nil {
		return []error{&huma.ErrorDetail{Location: "body.user_id", Message: strings.Replace(err.Error(), "sub", "user id", 1)}}
	}
	return nil
}

type memberOutput struct {
	Body todo.Member
}

func (s *server) addMember(ctx context.Context, in *addMemberInput) (*memberOutput, error) {
	m, err := s.Lists.AddMember(ctx, caller(ctx), in.ListID, in.Body.UserID, in.Body.Role)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &memberOutput{Body: m}, nil
}

type setRoleInput struct {
	MemberPath
	Body RoleField
}

func (s *server) setRole(ctx context.Context, in *setRoleInput) (*memberOutput, error) {
	m, err := s.Lists.SetRole(ctx, caller(ctx), in.ListID, in.member(ctx), in.Body.Role)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &memberOutput{Body: m}, nil
}

type removeMemberInput struct {
	MemberPath
}

func (s *server) removeMember(ctx context.Context, in *removeMemberInput) (*struct{}, error) {
	if err := s.Lists.RemoveMember(ctx, caller(ctx), in.ListID, in.member(ctx)); err != nil {
		return nil, s.problem(ctx, err)
	}
	return nil, nil
}

type createInvitationInput struct {
	ListPath
	Body struct {
		Role      string `json:"role" doc:"The role it gives."`
		MaxUses   int    `json:"max_uses,omitempty" doc:"How many people may accept it."`
		ExpiresIn int    `json:"expires_in,omitempty" doc:"Seconds until it stops working (default 7 days, at most 30)."`
	}
}

type invitationOutput struct {
	Body todo.Invitation
}

func (s *server) createInvitation(ctx context.Context, in *createInvitationInput) (*invitationOutput, error) {
	if in.Body.MaxUses == 0 {
		in.Body.MaxUses = todo.DefaultInvitationUses
	}
	if in.Body.ExpiresIn == 0 {
		in.Body.ExpiresIn = int(todo.DefaultInvitationExpiry.Seconds())
	}
	inv, err := s.Lists.CreateInvitation(ctx, caller(ctx), in.ListID, todo.NewInvitation{
		Role: in.Body.Role, MaxUses: in.Body.MaxUses, ExpiresAt: time.Now().Add(time.Duration(in.Body.ExpiresIn) * time.Second),
	})
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &invitationOutput{Body: inv}, nil
}

type listInvitationsInput struct {
	ListPath
}

type invitationsOutput struct {
	Body struct {
		Items []todo.Invitation `json:"items" doc:"The list's newest 100 invitations, without their tokens; empty unless I am an owner."`
	}
}

func (s *server) listInvitations(ctx context.Context, in *listInvitationsInput) (*invitationsOutput, error) {
	invs, err := s.Lists.Invitations(ctx, caller(ctx), in.ListID)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	out := &invitationsOutput{}
	out.Body.Items = invs
	return out, nil
}

type revokeInvitationInput struct {
	ListPath
	InvitationID string `path:"invitation_id" format:"uuid" doc:"The invitation's id."`
}

func (s *server) revokeInvitation(ctx context.Context, in *revokeInvitationInput) (*struct{}, error) {
	if err := s.Lists.RevokeInvitation(ctx, caller(ctx), in.ListID, in.InvitationID); err != nil {
		return nil, s.problem(ctx, err)
	}
	return nil, nil
}

type acceptInvitationInput struct {
	Token string `path:"token" minLength:"43" maxLength:"43" pattern:"^[A-Za-z0-9_-]+$" doc:"The invitation's token."`
}

type joinedOutput struct {
	Body todo.Joined
}

func (s *server) acceptInvitation(ctx context.Context, in *acceptInvitationInput) (*joinedOutput, error) {
	j, err := s.Lists.AcceptInvitation(ctx, caller(ctx), in.Token)
	if err != nil {
		return nil, s.problem(ctx, err)
	}
	return &joinedOutput{Body: j}, nil
}

type listTodosInput struct {
	ListPath
	FilterParams
	PageParams
}

func (s *server) listTodosOfList(ctx context.Context, in *listTodosInput) (*listOutput, error) {
	return s.page(ctx, in.ListID, in.FilterParams, in.PageParams, "/v1/lists/"+in.ListID+"/todos", false)
}

type createTodoInListInput struct {
	ListPath
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" pattern:"^[!-~]+$" doc:"Makes retries safe: a repeat of the same request with the same key within 24 hours returns the first response and creates nothing."`
	Body           TodoFields
}

func (s *server) createTodoInList(ctx context.Context, in *createTodoInListInput) (*createOutput, error) {
	return s.create(ctx, in.ListID, in.Body, in.IdempotencyKey)
}
