package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the API's Prometheus series. NewMetrics registers them.
type Metrics struct {
	requests     *prometheus.HistogramVec
	authFailures *prometheus.CounterVec
}

// NewMetrics registers the API's series on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "todoapi_http_request_duration_seconds",
			Help:    "Time to answer a request, by operation and status (its _count counts requests).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"operation", "status"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "todoapi_auth_failures_total",
			Help: "Requests refused with 401, by reason: missing, expired, invalid.",
		}, []string{"reason"}),
	}
	reg.MustRegister(m.requests, m.authFailures)
	return m
}

// noOperation is the operation label of a request answered before it
// reached one: a body or header refused (413, 400, 415, 431), a path or
// method that routes nowhere (404, 405), the probes and /metrics.
const noOperation = "none"

// requestInfo is filled in while a request is served and read by the access
// log: who (after authentication) and which operation.
type requestInfo struct {
	user, operation string
}

type requestInfoKey struct{}

func info(ctx context.Context) *requestInfo {
	ri, _ := ctx.Value(requestInfoKey{}).(*requestInfo)
	if ri == nil {
		return &requestInfo{}
	}
	return ri
}

// observe times every operation, by its OperationID and status. A handler
// that panics (a response that cannot be encoded) is counted as the 500
// recoverProblem answers.
func (s *server) observe(ctx huma.Context, next func(huma.Context)) {
	start := time.Now()
	info(ctx.Context()).operation = ctx.Operation().OperationID
	status := http.StatusInternalServerError
	defer func() {
		if s.Metrics != nil {
			s.Metrics.requests.WithLabelValues(ctx.Operation().OperationID, strconv.Itoa(status)).
				Observe(time.Since(start).Seconds())
		}
	}()
	next(ctx)
	status = ctx.Status()
}
