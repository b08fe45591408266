package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/gqlchat/gqlchat/wsproto/wstest"
)

// TestSIGTERM runs chatd as a process, holds a subscription, and sends
// SIGTERM: the subscriber hears 1001, the process exits 0, and the store's
// file is closed (a new chatd opens it at once).
func TestSIGTERM(t *testing.T) {
	data := filepath.Join(t.TempDir(), "chat.db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CHATD_TEST_RUN_MAIN=1", "CHATD_TEST_ARGS=-addr 127.0.0.1:0 -data "+data)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })

	lines := make(chan string, 100)
	go func() {
		s := bufio.NewScanner(stderr)
		for s.Scan() {
			lines <- s.Text()
		}
		close(lines)
	}()
	var log []string
	url := ""
	for url == "" {
		select {
		case line := <-lines:
			log = append(log, line)
			if m := regexp.MustCompile(`url=(http://\S+)`).FindStringSubmatch(line); m != nil {
				url = m[1]
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("chatd did not start; it said:\n%s", strings.Join(log, "\n"))
		}
	}
	if !strings.Contains(log[0], "store: embedded") || !strings.Contains(log[0], data) {
		t.Errorf("first log line %q does not say which store is used and where", log[0])
	}

	ws := wstest.Dial(t, url+"/graphql", "graphql-transport-ws")
	ws.Init()
	ws.Subscribe("1", messagesSub, wstest.Msg{"user": "ann"})
	ws.Send(wstest.Msg{"type": "ping"})
	ws.Expect("pong", "")

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	ws.ExpectClose(websocket.StatusGoingAway)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("chatd exited with %v, want 0", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("chatd did not exit 20s after SIGTERM")
	}
	for line := range lines {
		log = append(log, line)
	}
	if !strings.Contains(strings.Join(log, "\n"), "shutting down") {
		t.Errorf("no shutdown in the log:\n%s", strings.Join(log, "\n"))
	}

	// The file is free: the store was closed.
	m := NewMain()
	m.Config.Addr, m.Config.Data = "127.0.0.1:0", data
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := m.Run(ctx); err != nil {
		t.Fatalf("reopening the store after shutdown: %v", err)
	}
	m.Close()
}
