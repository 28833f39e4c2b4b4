//go:build !race

package api_test

// raceDetector: the race detector makes goroutine stacks and allocations
// larger, so memory bounds allow for it.
const raceDetector = false
