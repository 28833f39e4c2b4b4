package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// PgBouncer is a throwaway PgBouncer in transaction mode in front of a
// cluster, as Neon's pooled endpoint is: every transaction may get another
// server connection, so nothing may outlive a transaction.
type PgBouncer struct {
	Addr string // host:port to connect to
	cmd  *exec.Cmd
	dir  string
}

// StartPgBouncer starts Debian's pgbouncer on a free port, pooling every
// database of c with a small pool so that clients share server connections.
func (c *Cluster) StartPgBouncer(ctx context.Context) (*PgBouncer, error) {
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		if _, statErr := os.Stat("/usr/sbin/pgbouncer"); statErr != nil {
			return nil, errors.New("pgbouncer not found: apt-get install pgbouncer")
		}
		bin = "/usr/sbin/pgbouncer"
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(c.dir, "pgbouncer")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	ini := fmt.Sprintf(`[databases]
* = host=127.0.0.1 port=%d

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = trust
auth_file = %s
pool_mode = transaction
default_pool_size = 3
max_client_conn = 2000
ignore_startup_parameters = extra_float_digits
logfile = %s
pidfile = %s
`, c.port, port, filepath.Join(dir, "users.txt"), filepath.Join(dir, "pgbouncer.log"), filepath.Join(dir, "pgbouncer.pid"))
	users := fmt.Sprintf("%q \"\"\n%q \"\"\n%q \"\"\n", APIRole, OwnerRole, "postgres")
	if err := os.WriteFile(filepath.Join(dir, "pgbouncer.ini"), []byte(ini), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "users.txt"), []byte(users), 0o644); err != nil {
		return nil, err
	}
	if c.runAs != nil { // pgbouncer refuses to run as root, like postgres
		if err := chownToPostgres(dir); err != nil {
			return nil, err
		}
	}
	argv := append(append([]string{}, c.runAs...), bin, filepath.Join(dir, "pgbouncer.ini"))
	cmd := exec.Command(argv[0], argv[1:]...)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	b := &PgBouncer{Addr: "127.0.0.1:" + strconv.Itoa(port), cmd: cmd, dir: dir}
	for deadline := time.Now().Add(10 * time.Second); ; {
		if conn, err := net.Dial("tcp", b.Addr); err == nil {
			conn.Close()
			return b, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			b.Stop()
			log, _ := os.ReadFile(filepath.Join(dir, "pgbouncer.log"))
			return nil, fmt.Errorf("pgbouncer did not start:\n%s", log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop ends pgbouncer at once (SIGTERM, its immediate shutdown), signalling
// the process itself by its pidfile: as root it runs under runuser, which
// does not pass signals on.
func (b *PgBouncer) Stop() {
	pid := b.cmd.Process.Pid
	if text, err := os.ReadFile(filepath.Join(b.dir, "pgbouncer.pid")); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(text))); err == nil {
			pid = n
		}
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = b.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(pid, syscall.SIGKILL)
		_ = b.cmd.Process.Kill()
		<-done
	}
}
