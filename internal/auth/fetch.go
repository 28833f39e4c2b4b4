package auth

import (
	"errors"
	"fmt"
	"io"
	"net/http"
)

// capBody refuses JWKS responses larger than max bytes, so a hostile or broken
// endpoint cannot make the API buffer without bound, and tells observe how
// each fetch went. Any other answer goes back to the JWKS client, which closes
// its body and refuses every status but 200; redirects are never followed
// (see newJWKS), so a 3xx is refused there too.
type capBody struct {
	next    http.RoundTripper
	max     int64
	observe func(error) // may be nil
}

func (c capBody) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := c.next.RoundTrip(req)
	var bad error
	switch {
	case err != nil:
		bad = err
	case res.ContentLength > c.max:
		res.Body.Close()
		res, err = nil, errors.New("JWKS response too large")
		bad = err
	case res.StatusCode != http.StatusOK:
		bad = fmt.Errorf("JWKS answered %d", res.StatusCode)
	}
	if c.observe != nil {
		c.observe(bad)
	}
	if err != nil {
		return nil, err
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
