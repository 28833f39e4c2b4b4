package auth

import (
	"errors"
	"io"
	"net/http"
)

// capBody refuses JWKS responses larger than max bytes, so a hostile or broken
// endpoint cannot make the API buffer without bound.
type capBody struct {
	next http.RoundTripper
	max  int64
}

func (c capBody) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := c.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if res.ContentLength > c.max {
		res.Body.Close()
		return nil, errors.New("JWKS response too large")
	}
	res.Body = &limitedBody{ReadCloser: res.Body, left: c.max}
	return res, nil
}

type limitedBody struct {
	io.ReadCloser
	left int64
}

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, errors.New("JWKS response too large")
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.ReadCloser.Read(p)
	l.left -= int64(n)
	return n, err
}
