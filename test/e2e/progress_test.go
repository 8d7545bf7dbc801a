package e2e

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/creack/pty"

	"github.com/sherpack/kubectl-sherpack/internal/testenv"
)

// Without a terminal, progress is one timestamped plain line per change, never redrawn.
func TestProgressPlainLines(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	r := mustSherpack(t, "install", "plain", webapp, "-n", ns)
	if strings.Contains(r.stderr, "\x1b[") {
		t.Fatalf("escape sequences in non-terminal output:\n%q", r.stderr)
	}
	ts := regexp.MustCompile(`^\d\d:\d\d:\d\d `)
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	for _, l := range lines {
		if !ts.MatchString(l) {
			t.Fatalf("progress line without a timestamp: %q", l)
		}
	}
	for _, want := range []string{"plain install: revision 1", "wave -1 started", "ready    Deployment/" + ns + "/plain-webapp"} {
		if !strings.Contains(r.stderr, want) {
			t.Fatalf("no %q in:\n%s", want, r.stderr)
		}
	}
	// The summary goes to stdout, not mixed with progress.
	if !strings.HasPrefix(r.stdout, "✓ plain installed") {
		t.Fatalf("stdout: %q", r.stdout)
	}
}

// On a terminal, the live view redraws in place; once the escape sequences are played the
// screen holds each object once, the wave lines and the summary.
func TestProgressLiveViewInPTY(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	cmd := exec.Command(testenv.PluginBinary(), "install", "pty", webapp, "-n", ns)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+testenv.Kubeconfig(), "TERM=xterm")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 160})
	if err != nil {
		t.Fatal(err)
	}
	var raw bytes.Buffer
	_, _ = io.Copy(&raw, f) // ends with EIO when the process exits
	if err := cmd.Wait(); err != nil {
		t.Fatalf("install in a pty: %v\n%q", err, raw.String())
	}
	if !strings.Contains(raw.String(), "\x1b[2K") {
		t.Fatalf("no redraw sequences on a terminal:\n%q", raw.String())
	}
	screen := play(raw.String())
	text := strings.Join(screen, "\n")
	count := func(s string) int { return strings.Count(text, s) }
	if count("Release pty · install") != 1 {
		t.Fatalf("the title is drawn %d times:\n%s", count("Release pty · install"), text)
	}
	for _, obj := range []string{"Deployment/" + ns + "/pty-webapp", "Service/" + ns + "/pty-webapp", "ConfigMap/" + ns + "/pty-webapp-config"} {
		if c := count(obj); c != 1 {
			t.Fatalf("%s is on the screen %d times (want once):\n%s", obj, c, text)
		}
	}
	if !strings.Contains(text, "wave -1") || !strings.Contains(text, "wave 0") || !strings.Contains(text, "✓ pty installed") {
		t.Fatalf("final screen:\n%s", text)
	}
}

var csi = regexp.MustCompile(`^\x1b\[(\d*)([A-Za-z])`)

// play interprets the few sequences the live view uses: cursor up, clear line, CR, LF.
func play(s string) []string {
	var screen []string
	row, col := 0, 0
	ensure := func() {
		for len(screen) <= row {
			screen = append(screen, "")
		}
	}
	for i := 0; i < len(s); {
		if m := csi.FindStringSubmatch(s[i:]); m != nil {
			n, _ := strconv.Atoi(m[1])
			switch m[2] {
			case "A":
				if n == 0 {
					n = 1
				}
				row -= n
				if row < 0 {
					row = 0
				}
			case "K":
				ensure()
				screen[row] = ""
				col = 0
			}
			i += len(m[0])
			continue
		}
		switch s[i] {
		case '\r':
			col = 0
			i++
		case '\n':
			row++
			col = 0
			i++
		default:
			ensure()
			line := []rune(screen[row])
			r, size := decodeRune(s[i:])
			for len(line) < col {
				line = append(line, ' ')
			}
			if col < len(line) {
				line[col] = r
			} else {
				line = append(line, r)
			}
			screen[row] = string(line)
			col++
			i += size
		}
	}
	return screen
}

func decodeRune(s string) (rune, int) {
	for i, r := range s {
		_ = i
		return r, len(string(r))
	}
	return 0, 1
}
