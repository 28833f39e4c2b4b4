package main

import (
	"math"
	"runtime/debug"
	"testing"
)

// TestLimitMemory: serve sets its soft memory limit unless GOMEMLIMIT
// names one (which the runtime has applied itself).
func TestLimitMemory(t *testing.T) {
	before := debug.SetMemoryLimit(math.MaxInt64)
	defer debug.SetMemoryLimit(before)
	limitMemory(getenv(map[string]string{"GOMEMLIMIT": "100MiB"}))
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("with GOMEMLIMIT set, the limit became %d", got)
	}
	limitMemory(getenv(nil))
	if got := debug.SetMemoryLimit(-1); got != memoryLimit {
		t.Errorf("without GOMEMLIMIT, the limit is %d, want %d", got, memoryLimit)
	}
}
