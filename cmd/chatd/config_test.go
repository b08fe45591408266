package main

import (
	"bytes"
	"errors"
	"flag"
	"slices"
	"strings"
	"testing"
)

func TestParseFlags(t *testing.T) {
	env := map[string]string{
		"CHAT_ADDR": ":9999", "REDIS_URL": "redis:6379", "CHAT_ORIGINS": "a.example, *.b.example",
		"CHAT_MAX_CONNS": "50", "CHAT_NAME_RATE": "0.5",
	}
	m := NewMain()
	var out bytes.Buffer
	if err := m.ParseFlags([]string{"-addr", "127.0.0.1:1234", "-max-ops", "7"}, func(k string) string { return env[k] }, &out); err != nil {
		t.Fatal(err)
	}
	c := m.Config
	if c.Addr != "127.0.0.1:1234" {
		t.Errorf("Addr = %q: the flag must win over CHAT_ADDR", c.Addr)
	}
	if c.Redis != "redis:6379" || c.MaxConnections != 50 || c.MaxOperations != 7 || c.NameRate != 0.5 {
		t.Errorf("config = %+v", c)
	}
	if !slices.Equal(c.Origins, []string{"a.example", "*.b.example"}) {
		t.Errorf("Origins = %q", c.Origins)
	}

	// -h explains every flag with its variable, and is not an error to exit on.
	out.Reset()
	err := NewMain().ParseFlags([]string{"-h"}, func(string) string { return "" }, &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v, want flag.ErrHelp", err)
	}
	for _, want := range []string{"-addr", "$CHAT_ADDR", "-redis", "$REDIS_URL", "-data", "-origins", "-max-conns", "-name-rate"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("-h does not mention %s", want)
		}
	}

	for _, bad := range []struct {
		args []string
		env  map[string]string
	}{
		{[]string{"-history", "0"}, nil},
		{[]string{"-max-body", "10"}, nil},
		{[]string{"-name-rate", "-1"}, nil},
		{[]string{"-log-level", "loud"}, nil},
		{[]string{"stray"}, nil},
		{nil, map[string]string{"CHAT_MAX_CONNS": "many"}},
	} {
		err := NewMain().ParseFlags(bad.args, func(k string) string { return bad.env[k] }, &out)
		if err == nil {
			t.Errorf("args %q env %v: no error", bad.args, bad.env)
		}
	}
}
