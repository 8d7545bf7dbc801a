package printers

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/sherpack/kubectl-sherpack/pkg/lifecycle"
)

// PlainProgress prints one timestamped line per change of state: for CI logs, never redrawn.
type PlainProgress struct {
	W  io.Writer
	mu sync.Mutex
	// last state per object, so that repeated identical states print once.
	last map[string]string
}

// Event prints the event if it says something new.
func (p *PlainProgress) Event(e lifecycle.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.last == nil {
		p.last = map[string]string{}
	}
	key := e.Type + "|" + e.Name
	state := e.Action + "|" + e.Detail
	if p.last[key] == state {
		return
	}
	p.last[key] = state
	ts := e.Time.Format("15:04:05")
	switch e.Type {
	case "operation":
		fmt.Fprintf(p.W, "%s %s %s: %s\n", ts, e.Release, e.Name, e.Detail)
	case "wave":
		fmt.Fprintf(p.W, "%s %s %s\n", ts, e.Name, e.Action)
	case "api":
		fmt.Fprintf(p.W, "%s %s\n", ts, e.Detail)
	default:
		line := fmt.Sprintf("%s %-8s %s", ts, e.Action, e.Name)
		if e.Detail != "" {
			line += "  " + e.Detail
		}
		fmt.Fprintln(p.W, line)
	}
}

// JSONProgress prints one JSON object per event and line.
type JSONProgress struct {
	W  io.Writer
	mu sync.Mutex
}

// Event writes the event as one JSON line.
func (p *JSONProgress) Event(e lifecycle.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b, _ := json.Marshal(e)
	fmt.Fprintln(p.W, string(b))
}

// NoProgress prints nothing.
type NoProgress struct{}

// Event does nothing.
func (NoProgress) Event(lifecycle.Event) {}
