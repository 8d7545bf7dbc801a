package releases

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestCodecRoundTripEveryCompression(t *testing.T) {
	t.Parallel()
	for _, c := range []Compression{CompressionZstd, CompressionLZ4, CompressionGzip, CompressionNone} {
		r := testRelease("prod", "web", 7, StateDeployed)
		r.Manifest = strings.Repeat("kind: ConfigMap\n", 1000)
		b, err := Encode(r, c)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DetectCompression(b)
		if err != nil || got != c {
			t.Fatalf("%s payload detected as %q (%v)", c, got, err)
		}
		if c != CompressionNone && len(b) >= len(r.Manifest) {
			t.Fatalf("%s did not compress: %d bytes for a %d-byte manifest", c, len(b), len(r.Manifest))
		}
		out, err := Decode(b, "test")
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		if out.Manifest != r.Manifest || out.Revision != 7 || out.State != StateDeployed {
			t.Fatalf("%s round trip: %+v", c, out)
		}
	}
}

func TestDecodeRejectsBadPayloads(t *testing.T) {
	t.Parallel()
	good, _ := Encode(testRelease("prod", "web", 1, StateDeployed), CompressionZstd)
	newer := bytes.Replace(mustJSON(t), []byte(`"schemaVersion":1`), []byte(`"schemaVersion":99`), 1)
	cases := map[string]struct {
		in   []byte
		want string
	}{
		"empty":            {nil, "empty"},
		"unknown magic":    {[]byte("PK\x03\x04zip"), "not zstd, lz4, gzip or JSON"},
		"truncated zstd":   {good[:len(good)-10], "zstd"},
		"gzip header only": {[]byte{0x1f, 0x8b, 0x08}, "gzip"},
		"not a release":    {[]byte(`{"hello":"world"}`), "not a release record"},
		"newer schema":     {newer, "upgrade kubectl-sherpack"},
		"bad state":        {bytes.Replace(mustJSON(t), []byte(`"state":"deployed"`), []byte(`"state":"dancing"`), 1), "not a release record"},
	}
	for name, tc := range cases {
		_, err := Decode(tc.in, "Secret prod/sh.sherpack.release.v1.web.v1")
		if !IsCorrupt(err) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "Secret prod/sh.sherpack.release.v1.web.v1") {
			t.Errorf("%s: %v; want a CorruptError naming the object and saying %q", name, err, tc.want)
		}
	}
}

func mustJSON(t *testing.T) []byte {
	b, err := Encode(testRelease("prod", "web", 1, StateDeployed), CompressionNone)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestStateMachine(t *testing.T) {
	t.Parallel()
	allowed := map[[2]State]bool{}
	for from, tos := range transitions {
		for _, to := range tos {
			allowed[[2]State{from, to}] = true
		}
	}
	for _, from := range append([]State{""}, AllStates...) {
		for _, to := range AllStates {
			r := &Release{Name: "web", State: from, Holder: &Holder{ID: "x"}}
			err := r.Transition(to, "why", time.Now())
			if allowed[[2]State{from, to}] != (err == nil) {
				t.Errorf("%q -> %q: err=%v, allowed=%v", from, to, err, allowed[[2]State{from, to}])
			}
			if err != nil && r.State != from {
				t.Errorf("refused %q -> %q still changed the state", from, to)
			}
			if err == nil && to == StateFailed && r.Reason != "why" {
				t.Errorf("-> failed lost the reason")
			}
			if err == nil && !to.IsPending() && r.Holder != nil {
				t.Errorf("%q -> %q kept the holder of a finished operation", from, to)
			}
		}
	}
	// The moves every operation relies on.
	for _, p := range [][2]State{{"", StatePendingInstall}, {StatePendingUpgrade, StateDeployed}, {StateDeployed, StateSuperseded},
		{StatePendingInstall, StateFailed}, {StateDeployed, StatePendingUninstall}, {StatePendingUninstall, StateUninstalled}} {
		if !CanTransition(p[0], p[1]) {
			t.Errorf("%q -> %q must be allowed", p[0], p[1])
		}
	}
	for _, p := range [][2]State{{StateSuperseded, StateDeployed}, {StateDeployed, StatePendingInstall}, {StateUninstalled, StateDeployed}, {"", StateDeployed}} {
		if CanTransition(p[0], p[1]) {
			t.Errorf("%q -> %q must be refused", p[0], p[1])
		}
	}
}

func TestValidateName(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"web", "my-app-2", strings.Repeat("a", 53)} {
		if err := ValidateName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "Web", "-web", "web-", "a_b", "a.b", strings.Repeat("a", 54)} {
		if err := ValidateName(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzDecode(f *testing.F) {
	good, _ := Encode(testRelease("prod", "web", 1, StateDeployed), CompressionZstd)
	lz, _ := Encode(testRelease("prod", "web", 1, StateDeployed), CompressionLZ4)
	gz, _ := Encode(testRelease("prod", "web", 1, StateDeployed), CompressionGzip)
	for _, s := range [][]byte{good, lz, gz, good[:20], []byte("{}"), {0x28, 0xb5, 0x2f, 0xfd}} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Decode(b, "fuzz")
		if err == nil && (r.Name == "" || r.Revision < 1) {
			t.Fatalf("accepted a record without name or revision: %+v", r)
		}
	})
}
