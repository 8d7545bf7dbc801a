package printers

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/sherpack/kubectl-sherpack/pkg/lifecycle"
)

// An API server outage is told by each progress reporter in its own form.
func TestOutageNotices(t *testing.T) {
	t.Parallel()
	ev := lifecycle.Event{Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Type: "api", Action: "warning", Detail: "API server 10.0.0.1:6443 unreachable (connection refused); retrying for up to 1m0s"}
	var plain bytes.Buffer
	(&PlainProgress{W: &plain}).Event(ev)
	if got := plain.String(); got != "03:04:05 API server 10.0.0.1:6443 unreachable (connection refused); retrying for up to 1m0s\n" {
		t.Fatalf("plain: %q", got)
	}
	live := &LiveProgress{entries: map[string]*liveEntry{}, waves: map[int]string{}, start: time.Now()}
	live.Event(lifecycle.Event{Type: "operation", Release: "shop", Name: "upgrade", Detail: "revision 2"})
	live.Event(ev)
	lines := live.lines()
	if len(lines) < 2 || !strings.HasPrefix(lines[1], "  ⚠ API server 10.0.0.1:6443 unreachable") {
		t.Fatalf("live view: %q", lines)
	}
	live.Event(lifecycle.Event{Type: "api", Action: "warning", Detail: "API server answering again after 4.2s"})
	if lines := live.lines(); !strings.Contains(lines[1], "answering again") || strings.Contains(strings.Join(lines, "\n"), "unreachable") {
		t.Fatalf("live view after the outage: %q", lines)
	}
}
