package main

import (
	"math"
	"math/bits"
	"time"
)

// Histogram counts durations in nanoseconds in log-linear buckets, the HDR
// histogram layout: values below 256 ns have a bucket each, and every octave
// [2^k, 2^(k+1)) above is cut into 128 equal buckets. A bucket is reported by
// its midpoint, so a percentile is off by at most 1/256 (0.4%) of its value.
//
// It exists so that a reader goroutine can record a million latencies
// without a lock shared with anyone and without a growing slice: octaves are
// allocated the first time a value falls in them (a run touches a dozen at
// most, 512 bytes each), and histograms of many readers merge at the end.
// The zero value is ready to use; a Histogram is not safe for concurrent use.
type Histogram struct {
	octaves  [numOctaves][]uint32
	n        uint64
	sum      float64
	min, max int64
}

const (
	subBits    = 7
	subCount   = 1 << subBits // buckets per octave
	maxBits    = 41           // values are clamped below 2^41 ns, about 36 minutes
	numOctaves = maxBits - subBits
	maxValue   = 1<<maxBits - 1
)

// bucketOf returns the octave of v and its bucket within the octave. Octave 0
// holds 0..255 exactly; octave e ≥ 1 holds [128·2^e, 256·2^e) in buckets of
// width 2^e.
func bucketOf(v int64) (octave, bucket int) {
	if v < 2*subCount {
		return 0, int(v)
	}
	e := bits.Len64(uint64(v)) - (subBits + 1)
	return e, int(v>>e) - subCount
}

// bucketMid is the value that stands for bucket b of octave e.
func bucketMid(e, b int) int64 {
	if e == 0 {
		return int64(b)
	}
	lo := int64(b+subCount) << e
	return lo + (int64(1)<<e)/2
}

// Record counts one value. Negative values (a clock stepped backwards) count
// as 0 and values past the range as its top, so that nothing is lost.
func (h *Histogram) Record(v int64) {
	if v < 0 {
		v = 0
	}
	if v > maxValue {
		v = maxValue
	}
	e, b := bucketOf(v)
	o := h.octaves[e]
	if o == nil {
		size := subCount
		if e == 0 {
			size = 2 * subCount
		}
		o = make([]uint32, size)
		h.octaves[e] = o
	}
	o[b]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
	h.sum += float64(v)
}

// RecordDuration counts d.
func (h *Histogram) RecordDuration(d time.Duration) { h.Record(int64(d)) }

// Merge adds every count of o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	for e, src := range o.octaves {
		if src == nil {
			continue
		}
		dst := h.octaves[e]
		if dst == nil {
			dst = make([]uint32, len(src))
			h.octaves[e] = dst
		}
		for i, c := range src {
			dst[i] += c
		}
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.n += o.n
	h.sum += o.sum
}

// Reset empties h and keeps its octaves for reuse.
func (h *Histogram) Reset() {
	for _, o := range h.octaves {
		clear(o)
	}
	h.n, h.sum, h.min, h.max = 0, 0, 0, 0
}

// Count is the number of values recorded.
func (h *Histogram) Count() uint64 { return h.n }

// Max is the largest value recorded, exactly; 0 when empty.
func (h *Histogram) Max() int64 { return h.max }

// Min is the smallest value recorded, exactly; 0 when empty.
func (h *Histogram) Min() int64 { return h.min }

// Mean is the exact average; 0 when empty.
func (h *Histogram) Mean() float64 {
	if h.n == 0 {
		return 0
	}
	return h.sum / float64(h.n)
}

// Quantile returns the nearest-rank percentile for q in [0, 1]: the smallest
// recorded value v such that at least q of all values are ≤ v (within the
// bucket error). Quantile(1) is the exact maximum; 0 when empty.
func (h *Histogram) Quantile(q float64) int64 {
	if h.n == 0 {
		return 0
	}
	rank := nearestRank(q, h.n)
	if rank >= h.n {
		return h.max
	}
	var seen uint64
	for e, o := range h.octaves {
		for b, c := range o {
			seen += uint64(c)
			if seen >= rank {
				return min(max(bucketMid(e, b), h.min), h.max)
			}
		}
	}
	return h.max
}

// nearestRank is the 1-based rank of the q-quantile among n values.
func nearestRank(q float64, n uint64) uint64 {
	r := uint64(math.Ceil(q * float64(n)))
	return min(max(r, 1), n)
}

// exactQuantile is the nearest-rank percentile of sorted values; the tests
// hold Histogram to it.
func exactQuantile(sorted []int64, q float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[nearestRank(q, uint64(len(sorted)))-1]
}
