// Package pgcluster runs throwaway Postgres clusters (and a PgBouncer in
// front of one) for development (`make run`, cmd/devpg) and tests, and
// provisions the roles and databases the README tells an operator to create.
// It runs the server binaries installed on the machine and does not link
// package testing; nothing here is used in production.
package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"time"
)

// Cluster is a running throwaway Postgres server on 127.0.0.1.
type Cluster struct {
	dir   string // holds data/ and the socket; removed by Stop
	port  int
	runAs []string // prefix that runs a command as the postgres OS user, when we are root
	pgBin string
	opts  string // the server's options: port, socket folder, settings
}

// AdminURL is the URL of the cluster's superuser on its maintenance database.
func (c *Cluster) AdminURL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
}

// URL is the URL of role on database dbname.
func (c *Cluster) URL(role, dbname string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", role, c.port, dbname)
}

// Dir is the folder that holds the cluster's data and log (postgres.log).
func (c *Cluster) Dir() string { return c.dir }

// Start initialises and starts a cluster in a new temporary folder, on a free
// port, with durability turned off (it is thrown away) unless settings (each
// "name=value") say otherwise. Postgres refuses to run as root, so as root it
// runs as the postgres OS user.
func Start(ctx context.Context, settings ...string) (*Cluster, error) {
	pgBin, err := binDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "todoapi-pg-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, pgBin: pgBin}
	if os.Geteuid() == 0 {
		if err := chownToPostgres(dir); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		c.runAs = []string{"runuser", "-u", "postgres", "--"}
	}
	if c.port, err = FreePort(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := c.pg(ctx, "initdb", "-D", filepath.Join(dir, "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8",
		"--locale=C", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	c.opts = fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=300 "+
		"-c fsync=off -c synchronous_commit=off -c full_page_writes=off", c.port, dir)
	for _, setting := range settings {
		c.opts += " -c " + setting
	}
	if err := c.Up(ctx); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

// Stop stops the server and removes its folder.
func (c *Cluster) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := c.pg(ctx, "pg_ctl", "stop", "-w", "-m", "fast", "-D", filepath.Join(c.dir, "data"))
	return errors.Join(err, os.RemoveAll(c.dir))
}

// Restart restarts the server with the given shutdown mode (fast, immediate).
func (c *Cluster) Restart(ctx context.Context, mode string) error {
	return c.pg(ctx, "pg_ctl", "restart", "-w", "-t", "60", "-m", mode, "-D", filepath.Join(c.dir, "data"),
		"-l", filepath.Join(c.dir, "postgres.log"), "-o", c.opts)
}

// Down stops the server and keeps its data; Up starts it again.
func (c *Cluster) Down(ctx context.Context) error {
	return c.pg(ctx, "pg_ctl", "stop", "-w", "-m", "fast", "-D", filepath.Join(c.dir, "data"))
}

// Up starts the server (again, after Down).
func (c *Cluster) Up(ctx context.Context) error {
	return c.pg(ctx, "pg_ctl", "start", "-w", "-t", "60", "-D", filepath.Join(c.dir, "data"), "-l", filepath.Join(c.dir, "postgres.log"), "-o", c.opts)
}

func (c *Cluster) pg(ctx context.Context, name string, args ...string) error {
	argv := append(append(append([]string{}, c.runAs...), filepath.Join(c.pgBin, name)), args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = c.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w\n%s", name, err, out)
	}
	return nil
}

// binDir finds the server binaries: beside initdb on PATH, else the newest
// Debian/Ubuntu install under /usr/lib/postgresql.
func binDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Dir(real), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) < version(dirs[j]) })
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i], nil
		}
	}
	return "", errors.New("no PostgreSQL server found: install it (Debian: apt-get install postgresql) or set DATABASE_URL")
}

func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func chownToPostgres(dir string) error {
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("running as root needs the postgres OS user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(dir, uid, gid)
}

// FreePort is a TCP port on 127.0.0.1 that nothing listens on now.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
