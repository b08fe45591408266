// Package redistest starts private redis-server processes for tests: each on
// a free loopback port with its own temporary directory, never touching a
// Redis the test did not start.
package redistest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Server is a redis-server owned by one test.
type Server struct {
	Addr string // 127.0.0.1:port
	Dir  string // data directory, kept across Restart

	tb     testing.TB
	args   []string
	proc   *os.Process
	exited chan error // receives when proc ends
}

// Start starts redis-server with args added to a private configuration
// (no persistence unless args ask for it) and stops it when the test ends.
// Without redis-server it skips the test, or fails it when CI is set.
func Start(tb testing.TB, args ...string) *Server {
	tb.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatal("redis-server is not installed (CI is set, so this is a failure)")
		}
		tb.Skip("redis-server is not installed")
	}
	s := &Server{tb: tb, Dir: tb.TempDir(), args: args}
	var err error
	for try := 0; try < 5; try++ { // a free port can be taken before redis binds it
		if s.Addr, err = freeAddr(); err != nil {
			continue
		}
		if err = s.start(); err == nil {
			tb.Cleanup(s.Kill)
			return s
		}
	}
	tb.Fatalf("failed to start redis-server: %v", err)
	return nil
}

// Kill stops the server at once with SIGKILL, as a crash would.
func (s *Server) Kill() {
	if s.proc == nil {
		return
	}
	s.proc.Kill()
	<-s.exited
	s.proc = nil
}

// Restart starts the server again on the same port and data directory.
func (s *Server) Restart() {
	s.tb.Helper()
	s.Kill()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := s.start()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.tb.Fatalf("failed to restart redis-server: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *Server) start() error {
	_, port, _ := net.SplitHostPort(s.Addr)
	args := append([]string{
		"--port", port, "--bind", "127.0.0.1", "--dir", s.Dir,
		"--save", "", "--appendonly", "no", "--daemonize", "no",
		"--logfile", filepath.Join(s.Dir, "redis.log"),
	}, s.args...)
	cmd := exec.Command("redis-server", args...)
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if ping(s.Addr) == nil {
			s.proc, s.exited = cmd.Process, exited
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("redis-server exited: %v (log: %s)", err, tail(filepath.Join(s.Dir, "redis.log")))
		case <-time.After(20 * time.Millisecond):
		}
	}
	cmd.Process.Kill()
	<-exited
	return fmt.Errorf("redis-server did not answer on %s", s.Addr)
}

// ping sends PING and expects PONG (and not LOADING) with the RESP protocol.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return fmt.Errorf("redis answered %q", strings.TrimSpace(line))
	}
	return nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port), nil
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 500 {
		b = b[len(b)-500:]
	}
	return string(b)
}
