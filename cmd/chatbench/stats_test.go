package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestHistogramExactBelow256(t *testing.T) {
	var h Histogram
	for v := int64(1); v <= 100; v++ {
		h.Record(v)
	}
	for _, c := range []struct {
		q    float64
		want int64
	}{{0, 1}, {0.01, 1}, {0.5, 50}, {0.9, 90}, {0.99, 99}, {0.991, 100}, {1, 100}} {
		if got := h.Quantile(c.q); got != c.want {
			t.Errorf("Quantile(%v) of 1..100 = %d, want %d", c.q, got, c.want)
		}
	}
	if h.Count() != 100 || h.Min() != 1 || h.Max() != 100 || h.Mean() != 50.5 {
		t.Errorf("count %d min %d max %d mean %v, want 100 1 100 50.5", h.Count(), h.Min(), h.Max(), h.Mean())
	}
}

func TestHistogramKnownLatencies(t *testing.T) {
	// 1000 deliveries: 900 at 2ms, 90 at 20ms, 10 at 200ms.
	var h Histogram
	for i := range 1000 {
		switch {
		case i < 900:
			h.RecordDuration(2 * time.Millisecond)
		case i < 990:
			h.RecordDuration(20 * time.Millisecond)
		default:
			h.RecordDuration(200 * time.Millisecond)
		}
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 2 * time.Millisecond}, {0.9, 2 * time.Millisecond}, {0.901, 20 * time.Millisecond},
		{0.99, 20 * time.Millisecond}, {0.999, 200 * time.Millisecond}, {1, 200 * time.Millisecond}} {
		got := time.Duration(h.Quantile(c.q))
		if rel := math.Abs(float64(got-c.want)) / float64(c.want); rel > 0.01 {
			t.Errorf("Quantile(%v) = %v, want %v within 1%%", c.q, got, c.want)
		}
	}
	if h.Max() != int64(200*time.Millisecond) {
		t.Errorf("Max = %d, want exactly 200ms", h.Max())
	}
}

// TestHistogramAgainstExact holds every percentile of random latencies
// spread over six decades to the exact nearest-rank value within 1%.
func TestHistogramAgainstExact(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	vals := make([]int64, 200000)
	var h Histogram
	for i := range vals {
		vals[i] = int64(math.Exp(r.Float64()*math.Log(1e9))) + 1000 // 1µs..1s, log-uniform
		h.Record(vals[i])
	}
	slices.Sort(vals)
	for q := 0.0; q <= 1.0; q += 0.001 {
		want := exactQuantile(vals, q)
		got := h.Quantile(q)
		if rel := math.Abs(float64(got-want)) / float64(want); rel > 0.01 {
			t.Fatalf("Quantile(%v) = %d, exact %d: off by %.2f%%", q, got, want, rel*100)
		}
	}
	if h.Quantile(1) != vals[len(vals)-1] || h.Min() != vals[0] {
		t.Errorf("max/min not exact")
	}
}

func TestHistogramMergeAndReset(t *testing.T) {
	var a, b, all Histogram
	for v := int64(0); v < 100000; v += 7 {
		a.Record(v * 1000)
		all.Record(v * 1000)
		b.Record(v*1000 + 3)
		all.Record(v*1000 + 3)
	}
	var m Histogram
	m.Merge(&a)
	m.Merge(&b)
	for _, q := range []float64{0.1, 0.5, 0.9, 0.99, 1} {
		if m.Quantile(q) != all.Quantile(q) {
			t.Errorf("merged Quantile(%v) = %d, recorded together %d", q, m.Quantile(q), all.Quantile(q))
		}
	}
	if m.Count() != all.Count() || m.Max() != all.Max() || m.Min() != all.Min() {
		t.Errorf("merged count/max/min differ")
	}
	m.Reset()
	if m.Count() != 0 || m.Quantile(0.5) != 0 || m.Max() != 0 {
		t.Errorf("Reset left figures behind")
	}
	m.Record(5)
	if m.Quantile(0.5) != 5 || m.Min() != 5 {
		t.Errorf("after Reset, Quantile(0.5) = %d, min %d, want 5", m.Quantile(0.5), m.Min())
	}
}

func TestHistogramEdges(t *testing.T) {
	var h Histogram
	if h.Quantile(0.5) != 0 || h.Mean() != 0 {
		t.Error("empty histogram should report 0")
	}
	h.Record(-5) // clock stepped back
	h.Record(1 << 50)
	if h.Min() != 0 || h.Max() != maxValue {
		t.Errorf("min %d max %d, want 0 and %d", h.Min(), h.Max(), int64(maxValue))
	}
	for v := int64(0); v <= maxValue; v = v*3 + 1 {
		e, b := bucketOf(v)
		mid := bucketMid(e, b)
		if v >= 256 && math.Abs(float64(mid-v))/float64(v) > 1.0/256 {
			t.Errorf("value %d reported as %d", v, mid)
		}
		if v < 256 && mid != v {
			t.Errorf("value %d reported as %d, want exact", v, mid)
		}
	}
}

func TestExactQuantile(t *testing.T) {
	v := []int64{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}
	for _, c := range []struct {
		q    float64
		want int64
	}{{0, 10}, {0.1, 10}, {0.11, 20}, {0.5, 50}, {0.9, 90}, {0.99, 100}, {1, 100}} {
		if got := exactQuantile(v, c.q); got != c.want {
			t.Errorf("exactQuantile(%v) = %d, want %d", c.q, got, c.want)
		}
	}
}
