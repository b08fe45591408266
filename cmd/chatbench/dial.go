package main

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// Every TCP connection to one server address from one source address needs
// its own ephemeral port, and Linux has about 28,000 of them
// (net.ipv4.ip_local_port_range). Past that, connections come from several
// loopback source addresses, all of which reach a server on loopback.

// maxSourceIPs bounds -source-ips so that a typo in a range cannot make a
// million dialers.
const maxSourceIPs = 4096

// parseSourceIPs reads a comma-separated list of 127.0.0.0/8 addresses and
// ranges ("127.0.0.1-127.0.0.20"). An empty list means the system chooses.
func parseSourceIPs(s string) ([]netip.Addr, error) {
	var ips []netip.Addr
	loopback := netip.MustParsePrefix("127.0.0.0/8")
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		from, to, isRange := strings.Cut(part, "-")
		lo, err := netip.ParseAddr(strings.TrimSpace(from))
		if err != nil {
			return nil, fmt.Errorf("source address %q: %w", part, err)
		}
		hi := lo
		if isRange {
			if hi, err = netip.ParseAddr(strings.TrimSpace(to)); err != nil {
				return nil, fmt.Errorf("source range %q: %w", part, err)
			}
		}
		for _, a := range []netip.Addr{lo, hi} {
			if !a.Is4() || !loopback.Contains(a) {
				return nil, fmt.Errorf("source address %s is not in 127.0.0.0/8; only loopback source addresses are accepted", a)
			}
		}
		if hi.Less(lo) {
			return nil, fmt.Errorf("source range %q runs backwards", part)
		}
		l, h := addrUint(lo), addrUint(hi)
		if h-l+1 > maxSourceIPs || len(ips)+int(h-l+1) > maxSourceIPs {
			return nil, fmt.Errorf("more than %d source addresses", maxSourceIPs)
		}
		for v := l; v <= h; v++ {
			var b [4]byte
			binary.BigEndian.PutUint32(b[:], v)
			ips = append(ips, netip.AddrFrom4(b))
		}
	}
	return ips, nil
}

func addrUint(a netip.Addr) uint32 {
	b := a.As4()
	return binary.BigEndian.Uint32(b[:])
}

// dialers hands out HTTP clients bound to the source addresses in turn.
type dialers struct {
	ips  []netip.Addr
	next int
}

// dialer returns a net.Dialer bound to the next source address (or to none).
func (d *dialers) dialer() *net.Dialer {
	nd := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if len(d.ips) > 0 {
		nd.LocalAddr = &net.TCPAddr{IP: d.ips[d.next%len(d.ips)].AsSlice()}
		d.next++
	}
	return nd
}

// client returns an HTTP client of its own transport, dialling from the
// next source address. Proxies from the environment are ignored on purpose:
// chatbench talks only to the address it is given.
func (d *dialers) client(maxConns int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:               nil,
		DialContext:         d.dialer().DialContext,
		MaxIdleConns:        maxConns,
		MaxIdleConnsPerHost: maxConns,
		MaxConnsPerHost:     maxConns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}}
}
