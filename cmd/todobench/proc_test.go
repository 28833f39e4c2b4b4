package main

import (
	"os"
	"os/exec"
	"testing"
	"time"
)

// A child's CPU time still counts after it exits: Postgres's backends come
// and go inside a measured window.
func TestSampleKeepsExitedChildren(t *testing.T) {
	p := procs{postmaster: os.Getpid()} // this process stands in for the postmaster
	before := p.sample()
	cmd := exec.Command("sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	used := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	if used < 50*time.Millisecond {
		t.Fatalf("the child used only %s of CPU", used)
	}
	if got := p.sample().minus(before).pg; got < used-20*time.Millisecond {
		t.Errorf("Postgres's CPU grew by %s over a child that used %s", got, used)
	}
}
