package db

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestClassify(t *testing.T) {
	pg := func(code string) error { return fmt.Errorf("batch: %w", &pgconn.PgError{Code: code}) }
	cases := map[string]struct {
		err  error
		want failure
	}{
		"admin shutdown (pg_terminate_backend)": {pg("57P01"), failure{unavailable: true, rolledBack: true}},
		"crash shutdown":                        {pg("57P02"), failure{unavailable: true, rolledBack: true}},
		"cannot connect now (starting up)":      {pg("57P03"), failure{unavailable: true, rolledBack: true}},
		"too many connections":                  {pg("53300"), failure{unavailable: true, rolledBack: true}},
		"serialization failure":                 {pg("40001"), failure{unavailable: true, rolledBack: true}},
		"deadlock":                              {pg("40P01"), failure{unavailable: true, rolledBack: true}},
		"statement timeout":                     {pg("57014"), failure{unavailable: true}},
		"lock timeout":                          {pg("55P03"), failure{unavailable: true}},
		"check violation":                       {pg("23514"), failure{}},
		"insufficient privilege":                {pg("42501"), failure{}},
		"pool exhausted (acquire timed out)":    {acquireError{context.DeadlineExceeded}, failure{unavailable: true}},
		"connection refused":                    {acquireError{&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}, failure{unavailable: true, rolledBack: true}},
		"connection reset midway":               {fmt.Errorf("read: %w", syscall.ECONNRESET), failure{unavailable: true, connLost: true}},
		"EOF midway":                            {fmt.Errorf("receive: %w", io.ErrUnexpectedEOF), failure{unavailable: true, connLost: true}},
		"conn closed":                           {fmt.Errorf("send: %w", pgconn.ErrConnClosed), failure{unavailable: true, connLost: true}},
		"net error midway":                      {&net.OpError{Op: "write", Err: syscall.EPIPE}, failure{unavailable: true, connLost: true}},
		"a bug":                                 {errors.New("scan: wrong type"), failure{}},
	}
	for name, c := range cases {
		if got := classify(c.err); got != c.want {
			t.Errorf("%s: %+v, want %+v", name, got, c.want)
		}
	}
}
