package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// writeJSON writes res as one indented JSON object.
func writeJSON(w io.Writer, res *Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}

// writeText writes res as a header and a table with a column per step, so
// that the steps of one run read side by side.
func writeText(w io.Writer, res *Result) error {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	src := "chosen by the system"
	if res.SourceIPs > 0 {
		src = fmt.Sprintf("%d loopback addresses", res.SourceIPs)
	}
	p("chatbench %s: %d subscribers, %d posters, %d-byte texts from %d names, steps of %gs (drain up to %gs)\n",
		res.URL, res.Subscribers, res.Posters, res.Size, res.Names, res.DurationS, res.DrainS)
	p("generator: GOMAXPROCS %d, %d CPUs, RLIMIT_NOFILE %d, source addresses %s\n", res.GOMAXPROCS, res.NumCPU, res.NoFile, src)
	c := res.Connect
	p("connect: %d/%d in %.2fs (handshake p50 %.2fms p99 %.2fms), %d live after warm-up (%.2fs, %d warm-up posts)\n",
		c.Connected, c.Attempted, c.Seconds, c.Handshake.P50, c.Handshake.P99, c.Live, c.WarmupSeconds, c.WarmupPosts)
	if c.FirstError != "" {
		p("  first connect error (%d failed): %s\n", c.Failed, c.FirstError)
	}
	if s := res.Server; s != nil {
		p("server pid %d: RSS %s before connecting, %s after: %s per connection; %s at the end; %.2f CPU-seconds to connect\n",
			s.PID, mib(s.RSSBeforeBytes), mib(s.RSSAfterBytes), kib(s.RSSPerConnBytes), mib(s.RSSEndBytes), s.CPUConnectingSecond)
		if s.Error != "" {
			p("  /proc: %s\n", s.Error)
		}
		if s.RSSPerConnBytes < 0 {
			p("  the server's RSS fell while connecting: it still held memory of earlier work; measure a freshly started server\n")
		}
	}
	if len(res.Steps) == 0 {
		p("no step ran\n")
		return nil
	}

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(label string, cell func(s *StepResult) string) {
		fmt.Fprintf(tw, "%s\t", label)
		for i := range res.Steps {
			fmt.Fprintf(tw, "%s\t", cell(&res.Steps[i]))
		}
		fmt.Fprintln(tw)
	}
	ms := func(v float64) string { return fmt.Sprintf("%.2f", v) }
	fmt.Fprintln(w)
	row("", func(s *StepResult) string { return fmt.Sprintf("%g/s", s.Rate) })
	row("posts ok / failed", func(s *StepResult) string { return fmt.Sprintf("%d / %d", s.PostsOK, s.PostsFailed) })
	row("post latency p50 / p99 ms", func(s *StepResult) string {
		return ms(s.PostLatency.P50) + " / " + ms(s.PostLatency.P99)
	})
	row("schedule lag p99 / max ms", func(s *StepResult) string {
		behind := ""
		if s.Behind {
			behind = " BEHIND"
		}
		return ms(s.ScheduleLag.P99) + " / " + ms(s.ScheduleLag.Max) + behind
	})
	row("posts waiting for a poster", func(s *StepResult) string { return fmt.Sprint(s.PostsWaited) })
	row("subscribers", func(s *StepResult) string { return fmt.Sprint(s.Subscribers) })
	row("deliveries expected", func(s *StepResult) string { return fmt.Sprint(s.Expected) })
	row("received", func(s *StepResult) string { return fmt.Sprint(s.Received) })
	row("lost / duplicated", func(s *StepResult) string { return fmt.Sprintf("%d / %d", s.Lost, s.Duplicated) })
	row("delivery latency p50 ms", func(s *StepResult) string { return ms(s.Latency.P50) })
	row("p90 / p99 ms", func(s *StepResult) string { return ms(s.Latency.P90) + " / " + ms(s.Latency.P99) })
	row("max ms", func(s *StepResult) string { return ms(s.Latency.Max) })
	row("deliveries/s", func(s *StepResult) string { return fmt.Sprintf("%.0f", s.DeliveriesPerS) })
	row("window / drain s", func(s *StepResult) string { return fmt.Sprintf("%.2f / %.2f", s.WindowS, s.DrainS) })
	if res.Server != nil {
		row("server CPU cores", func(s *StepResult) string { return fmt.Sprintf("%.2f", s.ServerCores) })
		row("server CPU ms / 1000 deliv.", func(s *StepResult) string { return fmt.Sprintf("%.2f", s.ServerCPUPer1kMs) })
		row("server RSS after", func(s *StepResult) string { return mib(s.ServerRSSBytes) })
	}
	row("generator CPU cores", func(s *StepResult) string { return fmt.Sprintf("%.2f", s.GeneratorCores) })
	row("generator CPU ms / 1000 deliv.", func(s *StepResult) string { return fmt.Sprintf("%.2f", s.GeneratorCPUPer1kM) })
	row("machine CPU busy cores", func(s *StepResult) string { return fmt.Sprintf("%.2f of %d", s.MachineCores, res.NumCPU) })
	row("in interrupts (network)", func(s *StepResult) string { return fmt.Sprintf("%.2f", s.IRQCores) })
	if res.Server != nil {
		row("other processes cores", func(s *StepResult) string { return fmt.Sprintf("%.2f", s.OtherCores) })
	} else {
		row("server + other processes cores", func(s *StepResult) string { return fmt.Sprintf("%.2f", s.OtherCores) })
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)

	for i, s := range res.Steps {
		var notes []string
		if s.Interrupted {
			notes = append(notes, "interrupted: partial figures")
		}
		if s.FirstError != "" {
			notes = append(notes, "first post error: "+s.FirstError)
		}
		if s.Unexpected > 0 {
			notes = append(notes, fmt.Sprintf("%d deliveries of posts whose request failed", s.Unexpected))
		}
		if s.Disconnected > 0 {
			notes = append(notes, fmt.Sprintf("%d subscribers disconnected, first: %s", s.Disconnected, s.FirstDisconnect))
		}
		if s.Behind {
			notes = append(notes, fmt.Sprintf("the schedule fell behind: %d posts waited for a free poster and the last post went out %.3fs late (more -posters, or the server cannot take this rate)", s.PostsWaited, s.PostingOverS))
		}
		if s.Lost > 0 && s.DrainS >= res.DrainS-0.05 {
			notes = append(notes, fmt.Sprintf("%d deliveries were still missing when the drain ended (-drain %gs)", s.Lost, res.DrainS))
		}
		if res.Server != nil && s.OtherCores > 0.2*float64(res.NumCPU) {
			notes = append(notes, fmt.Sprintf("other processes used %.2f cores of %d during the step: the machine was not quiet, the figures are suspect", s.OtherCores, res.NumCPU))
		}
		if s.GeneratorCores > 0.8*float64(res.GOMAXPROCS) {
			notes = append(notes, fmt.Sprintf("chatbench itself used %.2f cores of its %d: the generator may be the limit", s.GeneratorCores, res.GOMAXPROCS))
		}
		for _, n := range notes {
			p("step %d (%g/s): %s\n", i+1, s.Rate, n)
		}
	}
	if res.Late > 0 {
		p("%d deliveries arrived after their step was closed (counted there as lost)\n", res.Late)
	}
	if res.Foreign > 0 {
		p("%d messages were not this run's (ignored)\n", res.Foreign)
	}
	if res.NextErrors > 0 {
		p("%d next frames carried errors, first: %s\n", res.NextErrors, res.FirstNextError)
	}
	if res.Interrupted {
		p("interrupted: %d of %d steps ran\n", len(res.Steps), len(res.Rates))
	}
	p("%s\n", strings.TrimSpace(`
latencies: post = HTTP round trip; delivery = frame read time - send time written in the text.
deliveries/s = deliveries received / window, the window running from the step's first post to its last delivery.
server CPU per 1000 deliveries = server CPU time over the step and its drain / deliveries received x 1000.`))
	return nil
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func kib(b float64) string { return fmt.Sprintf("%.1f KiB", b/(1<<10)) }
