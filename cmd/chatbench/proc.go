package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

// The server's memory and CPU are read from /proc, so -pid works for any
// server on this machine (chatd, the bare server, something else) without
// the server's cooperation.

// clockTicks is USER_HZ, the unit of utime and stime in /proc/N/stat. Linux
// fixes it at 100 on every architecture Go supports; reading it properly
// would need sysconf(_SC_CLK_TCK), that is cgo.
const clockTicks = 100

// procRSS returns VmRSS of process pid in bytes.
func procRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return parseRSS(b)
}

// parseRSS finds "VmRSS:   1234 kB" in the text of /proc/N/status.
func parseRSS(status []byte) (int64, error) {
	for line := range bytes.Lines(status) {
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, fmt.Errorf("unexpected VmRSS line %q", line)
		}
		kb, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("unexpected VmRSS line %q", line)
		}
		return kb << 10, nil
	}
	return 0, errors.New("no VmRSS in status (a kernel thread or a zombie?)")
}

// procCPU returns the CPU time (user + system) process pid has used.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(b)
}

// parseStatCPU reads utime and stime, fields 14 and 15 of /proc/N/stat. The
// second field, the command name, is in parentheses and may itself hold
// spaces and parentheses, so fields are counted from the last ')'.
func parseStatCPU(stat []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("malformed stat: no command name")
	}
	f := bytes.Fields(stat[i+1:])
	// f[0] is field 3 (state), so field n is f[n-3].
	if len(f) < 13 {
		return 0, errors.New("malformed stat: too few fields")
	}
	utime, err1 := strconv.ParseUint(string(f[11]), 10, 64)
	stime, err2 := strconv.ParseUint(string(f[12]), 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("malformed stat: %w", err)
	}
	ticks := utime + stime
	return time.Duration(ticks) * (time.Second / clockTicks), nil
}

// selfCPU returns the CPU time (user + system) chatbench itself has used, to
// tell whether the load generator, rather than the server, was the limit.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// raiseNoFile lifts the soft limit on open files to the hard limit: every
// subscriber is a socket, and the usual soft limit of 1024 is too few.
func raiseNoFile() (soft, hard uint64, err error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, 0, err
	}
	if rl.Cur < rl.Max {
		want := rl
		want.Cur = rl.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
			return rl.Cur, rl.Max, err
		}
		rl = want
	}
	return rl.Cur, rl.Max, nil
}

// machineCPU is the CPU time all processors of the machine have spent since
// boot: in processes (user, nice and system) and in interrupts (irq and
// softirq: on loopback, much of the network stack's work runs there; the
// kernel charges part of it to the interrupted process as well). Less the
// server's and chatbench's own, process time is what other processes took:
// a measurement on a machine that is busy with something else is suspect.
type machineCPU struct{ procs, irq time.Duration }

func readMachineCPU() (machineCPU, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machineCPU{}, err
	}
	return parseMachineCPU(b)
}

// parseMachineCPU reads the "cpu" line of /proc/stat: user nice system idle
// iowait irq softirq steal guest guest_nice, in ticks. Guest time is already
// in user and nice; idle, iowait and steal are not work done here.
func parseMachineCPU(stat []byte) (machineCPU, error) {
	line, _, _ := bytes.Cut(stat, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 8 || string(f[0]) != "cpu" {
		return machineCPU{}, errors.New("malformed /proc/stat")
	}
	var t [7]uint64
	for i := range t {
		n, err := strconv.ParseUint(string(f[i+1]), 10, 64)
		if err != nil {
			return machineCPU{}, fmt.Errorf("malformed /proc/stat: %w", err)
		}
		t[i] = n
	}
	tick := time.Second / clockTicks
	return machineCPU{
		procs: time.Duration(t[0]+t[1]+t[2]) * tick,
		irq:   time.Duration(t[5]+t[6]) * tick,
	}, nil
}
