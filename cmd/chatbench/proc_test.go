package main

import (
	"os"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	// The command name holds a space and a parenthesis; utime 250 and
	// stime 50 ticks are 3 seconds.
	stat := "4242 (chat d) x) S 1 4242 4242 0 -1 4194560 1200 0 0 0 250 50 0 0 20 0 12 0 900 1000000 2000 18446744073709551615\n"
	got, err := parseStatCPU([]byte(stat))
	if err != nil || got != 3*time.Second {
		t.Errorf("parseStatCPU = %v, %v; want 3s", got, err)
	}
	if _, err := parseStatCPU([]byte("4242 (chatd) S 1 2")); err == nil {
		t.Error("a short stat line was accepted")
	}
}

func TestParseRSS(t *testing.T) {
	status := "Name:\tchatd\nVmPeak:\t  900 kB\nVmRSS:\t   12345 kB\nThreads:\t7\n"
	got, err := parseRSS([]byte(status))
	if err != nil || got != 12345*1024 {
		t.Errorf("parseRSS = %d, %v; want %d", got, err, 12345*1024)
	}
	if _, err := parseRSS([]byte("Name:\tkthreadd\n")); err == nil {
		t.Error("status without VmRSS was accepted")
	}
}

func TestProcSelf(t *testing.T) {
	rss, err := procRSS(os.Getpid())
	if err != nil || rss <= 0 {
		t.Fatalf("procRSS(self) = %d, %v", rss, err)
	}
	if _, err := procCPU(os.Getpid()); err != nil {
		t.Fatalf("procCPU(self): %v", err)
	}
}

func TestParseSourceIPs(t *testing.T) {
	ips, err := parseSourceIPs("127.0.0.1-127.0.0.3, 127.0.1.9")
	if err != nil || len(ips) != 4 || ips[0].String() != "127.0.0.1" || ips[2].String() != "127.0.0.3" || ips[3].String() != "127.0.1.9" {
		t.Errorf("parseSourceIPs = %v, %v", ips, err)
	}
	if ips, err := parseSourceIPs(""); err != nil || len(ips) != 0 {
		t.Errorf("empty list = %v, %v", ips, err)
	}
	for _, bad := range []string{"10.0.0.1", "127.0.0.1-10.0.0.1", "127.0.0.9-127.0.0.1", "::1", "127.0.0", "127.0.0.0-127.1.0.0"} {
		if _, err := parseSourceIPs(bad); err == nil {
			t.Errorf("parseSourceIPs(%q) was accepted", bad)
		}
	}
}

func TestParseMachineCPU(t *testing.T) {
	stat := "cpu  100 5 50 1000 20 3 2 9 7 0\ncpu0 50 2 25 500 10 1 1 0 0 0\n"
	got, err := parseMachineCPU([]byte(stat))
	want := machineCPU{procs: 1550 * time.Millisecond, irq: 50 * time.Millisecond}
	if err != nil || got != want {
		t.Errorf("parseMachineCPU = %+v, %v; want %+v", got, err, want)
	}
	if _, err := parseMachineCPU([]byte("cpu 1 2 3\n")); err == nil {
		t.Error("a short cpu line was accepted")
	}
	if _, err := readMachineCPU(); err != nil {
		t.Errorf("readMachineCPU: %v", err)
	}
}
