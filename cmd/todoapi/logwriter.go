package main

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// logFlushEvery is how long a log line may wait in memory before it is written.
const logFlushEvery = 100 * time.Millisecond

// logBufferBytes is how much the log holds before it writes, whatever the time.
const logBufferBytes = 64 << 10

// bufferedLog collects the process's log lines and writes them in batches:
// one write call every logFlushEvery (or logBufferBytes), not one per
// request, since a write call costs more than the rest of a line's logging.
// Nothing is dropped: Close writes what is left, and each line stays whole
// and in order (slog writes a record with one Write call).
type bufferedLog struct {
	mu   sync.Mutex
	w    *bufio.Writer
	stop chan struct{}
	done sync.WaitGroup
}

func newBufferedLog(w io.Writer) *bufferedLog {
	b := &bufferedLog{w: bufio.NewWriterSize(w, logBufferBytes), stop: make(chan struct{})}
	b.done.Go(func() {
		t := time.NewTicker(logFlushEvery)
		defer t.Stop()
		for {
			select {
			case <-b.stop:
				return
			case <-t.C:
				_ = b.flush()
			}
		}
	})
	return b
}

func (b *bufferedLog) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.w.Write(p)
}

func (b *bufferedLog) flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.w.Flush()
}

// Close stops the periodic writes and writes what is left.
func (b *bufferedLog) Close() error {
	close(b.stop)
	b.done.Wait()
	return b.flush()
}
