package printers

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sherpack/kubectl-sherpack/pkg/lifecycle"
)

// LiveProgress is the terminal view: one line per object and hook, grouped by wave, redrawn in
// place at most ten times a second. Finished waves collapse to one line so that it stays
// readable with hundreds of objects.
type LiveProgress struct {
	w       io.Writer
	mu      sync.Mutex
	start   time.Time
	title   string
	notice  string   // the API server's availability, when it has been in question
	order   []string // keys in first-seen order
	entries map[string]*liveEntry
	waves   map[int]string // wave -> state
	drawn   int            // lines drawn last time
	dirty   bool
	done    chan struct{}
	stopped bool
	// MaxLines bounds the view; older finished lines are summarised.
	MaxLines int
}

type liveEntry struct {
	kind, name, state, detail string
	wave                      int
	hasWave                   bool
}

// NewLiveProgress starts the view on w (a terminal).
func NewLiveProgress(w io.Writer) *LiveProgress {
	p := &LiveProgress{w: w, start: time.Now(), entries: map[string]*liveEntry{}, waves: map[int]string{}, done: make(chan struct{}), MaxLines: 40}
	go p.loop()
	return p
}

func (p *LiveProgress) loop() {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-t.C:
			p.mu.Lock()
			p.redraw(false)
			p.mu.Unlock()
		}
	}
}

// Event records a change of state.
func (p *LiveProgress) Event(e lifecycle.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e.Type {
	case "operation":
		p.title = fmt.Sprintf("Release %s · %s · %s", e.Release, e.Name, e.Detail)
	case "wave":
		if e.Wave != nil {
			p.waves[*e.Wave] = e.Action
		}
	case "api":
		p.notice = e.Detail
	default:
		key := e.Type + "|" + e.Name
		en, ok := p.entries[key]
		if !ok {
			en = &liveEntry{kind: e.Type, name: e.Name}
			p.entries[key] = en
			p.order = append(p.order, key)
		}
		if e.Wave != nil {
			en.wave, en.hasWave = *e.Wave, true
		}
		en.state, en.detail = e.Action, e.Detail
	}
	p.dirty = true
}

// Finish draws the final state and stops redrawing.
func (p *LiveProgress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	p.stopped = true
	close(p.done)
	p.redraw(true)
}

func symbol(state string) string {
	switch state {
	case "ready", "created", "configured", "unchanged", "succeeded", "passed", "deleted", "pruned", "kept":
		return "✓"
	case "failed":
		return "✗"
	case "waiting", "applying", "running", "checking", "deleting":
		return "◐"
	}
	return "○"
}

func done(state string) bool { s := symbol(state); return s == "✓" }

// lines builds the view.
func (p *LiveProgress) lines() []string {
	var out []string
	if p.title != "" {
		out = append(out, p.title)
	}
	if p.notice != "" {
		out = append(out, "  ⚠ "+p.notice)
	}
	var hooks, checks []*liveEntry
	byWave := map[int][]*liveEntry{}
	var waves []int
	for _, k := range p.order {
		en := p.entries[k]
		switch {
		case en.kind == "hook":
			hooks = append(hooks, en)
		case en.kind == "check":
			checks = append(checks, en)
		case en.hasWave:
			if _, ok := byWave[en.wave]; !ok {
				waves = append(waves, en.wave)
			}
			byWave[en.wave] = append(byWave[en.wave], en)
		default:
			byWave[1<<30] = append(byWave[1<<30], en)
		}
	}
	for _, h := range hooks {
		out = append(out, fmt.Sprintf("  hook     %s %-48s %s", symbol(h.state), h.name, trim(h.state+" "+h.detail, 60)))
	}
	sort.Ints(waves)
	if rest, ok := byWave[1<<30]; ok {
		waves = append(waves, 1<<30)
		_ = rest
	}
	for _, w := range waves {
		label := fmt.Sprintf("  wave %-3d", w)
		if w == 1<<30 {
			label = "  other   "
		}
		ens := byWave[w]
		if p.waves[w] == "ready" && len(ens) > 3 {
			out = append(out, fmt.Sprintf("%s ✓ %d objects ready", label, len(ens)))
			continue
		}
		shown := 0
		ready := 0
		for _, en := range ens {
			if done(en.state) && len(ens) > 12 {
				ready++
				continue
			}
			prefix := label
			if shown > 0 {
				prefix = strings.Repeat(" ", len(label))
			}
			out = append(out, fmt.Sprintf("%s %s %-48s %s", prefix, symbol(en.state), en.name, trim(en.state+" "+en.detail, 60)))
			shown++
		}
		if ready > 0 {
			out = append(out, fmt.Sprintf("%s ✓ %d more ready", strings.Repeat(" ", len(label)), ready))
		}
	}
	for _, c := range checks {
		out = append(out, fmt.Sprintf("  check    %s %-48s %s", symbol(c.state), c.name, trim(c.state+" "+c.detail, 60)))
	}
	if max := p.MaxLines; max > 0 && len(out) > max {
		out = append(out[:1], append([]string{fmt.Sprintf("  … %d lines above", len(out)-max+1)}, out[len(out)-max+2:]...)...)
	}
	out = append(out, fmt.Sprintf("  %s", time.Since(p.start).Round(time.Second)))
	return out
}

func trim(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len([]rune(s)) > n {
		return string([]rune(s)[:n-1]) + "…"
	}
	return s
}

// redraw moves the cursor up over the last drawing and writes the new one, clearing each line.
func (p *LiveProgress) redraw(final bool) {
	if !p.dirty && !final {
		// Only the clock moved: redraw anyway once a second.
		if time.Since(p.start)%time.Second > 100*time.Millisecond {
			return
		}
	}
	p.dirty = false
	lines := p.lines()
	var b strings.Builder
	if p.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", p.drawn)
	}
	for _, l := range lines {
		b.WriteString("\r\x1b[2K")
		b.WriteString(l)
		b.WriteString("\n")
	}
	// Clear what the previous, longer drawing left below.
	for i := len(lines); i < p.drawn; i++ {
		b.WriteString("\r\x1b[2K\n")
	}
	if extra := p.drawn - len(lines); extra > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", extra)
	}
	p.drawn = len(lines)
	_, _ = io.WriteString(p.w, b.String())
}
