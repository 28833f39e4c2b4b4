package api

import (
	"context"
)

type healthOutput struct {
	Body struct {
		Status string `json:"status" example:"ok"`
	}
}

func ok() *healthOutput {
	out := &healthOutput{}
	out.Body.Status = "ok"
	return out
}

func (s *server) health(context.Context, *struct{}) (*healthOutput, error) {
	return ok(), nil
}

func (s *server) ready(ctx context.Context, _ *struct{}) (*healthOutput, error) {
	if err := s.Ready(ctx); err != nil {
		s.Logger.WarnContext(ctx, "not ready", "err", err)
		return nil, unavailable("not ready")
	}
	return ok(), nil
}
