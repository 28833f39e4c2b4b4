package main

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// countingWriter records what reaches it, and in how many write calls.
type countingWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes++
	return c.buf.Write(p)
}

func (c *countingWriter) state() (string, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String(), c.writes
}

// TestBufferedLogBatchesAndLosesNothing: lines logged together reach the
// output in one write, whole and in order, and Close writes what is left.
func TestBufferedLogBatchesAndLosesNothing(t *testing.T) {
	t.Parallel()
	out := &countingWriter{}
	logs := newBufferedLog(out)
	var want strings.Builder
	for i := range 100 {
		line := fmt.Sprintf("{\"n\":%d}\n", i)
		want.WriteString(line)
		if _, err := logs.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	if err := logs.Close(); err != nil {
		t.Fatal(err)
	}
	got, writes := out.state()
	if got != want.String() {
		t.Fatalf("the output is not the lines logged, in order:\n%s", got)
	}
	if writes > 2 { // the ticker may have flushed once midway
		t.Errorf("100 lines took %d writes, want 1 or 2", writes)
	}
}

// TestBufferedLogWritesWithoutClose: a line reaches the output on its own
// within a few flush intervals, not only at shutdown.
func TestBufferedLogWritesWithoutClose(t *testing.T) {
	t.Parallel()
	out := &countingWriter{}
	logs := newBufferedLog(out)
	defer logs.Close()
	if _, err := logs.Write([]byte("{\"msg\":\"hello\"}\n")); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if got, _ := out.state(); got != "" {
			return
		}
	}
	t.Fatal("the line was not written within 5 s")
}
