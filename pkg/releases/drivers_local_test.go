package releases

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

func TestMemoryDriverConformance(t *testing.T) {
	d := NewMemoryDriver()
	n := 0
	runConformance(t, driverUnderTest{
		driver:    d,
		namespace: func(t *testing.T) string { n++; return "ns" + string(rune('a'+n)) },
		corrupt: func(t *testing.T, ns, name string, rev int, raw []byte) {
			d.Corrupt(ns, name, rev, raw)
		},
		abandon: func(t *testing.T, l Lock) {
			// Make the lock look unrenewed for longer than its TTL.
			ml := l.(*memLock)
			d.mu.Lock()
			ml.renewed = ml.renewed.Add(-time.Hour)
			d.mu.Unlock()
		},
		lockTTL: time.Second,
	})
}

func TestMemoryDriverCountsOperations(t *testing.T) {
	d := NewMemoryDriver()
	s := NewStore(d)
	ctx := context.Background()
	deployed(t, s, "ns", "web", 1)
	if _, err := s.List(ctx, ListOptions{Namespace: "ns"}); err != nil {
		t.Fatal(err)
	}
	c := d.Counts()
	if c.Creates != 1 || c.Updates != 1 || c.Lists != 1 || c.Gets != 0 {
		t.Fatalf("counts %+v: want 1 create, 1 update, 1 list, no get (list decodes nothing)", c)
	}
}

func TestFileDriverConformance(t *testing.T) {
	dir := t.TempDir()
	d, err := NewFileDriver(dir, CompressionZstd)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	runConformance(t, driverUnderTest{
		driver:    d,
		namespace: func(t *testing.T) string { n++; return "ns" + string(rune('a'+n)) },
		corrupt: func(t *testing.T, ns, name string, rev int, raw []byte) {
			p := d.path(ns, name, rev)
			content, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			var rec map[string]any
			if err := yaml.Unmarshal(content, &rec); err != nil {
				t.Fatal(err)
			}
			rec["payload"] = base64.StdEncoding.EncodeToString(raw)
			out, _ := yaml.Marshal(rec)
			if err := os.WriteFile(p, out, 0o600); err != nil {
				t.Fatal(err)
			}
		},
		abandon: func(t *testing.T, l Lock) {
			// The process "dies": the kernel frees its lock, the holder file stays behind.
			fl := l.(*fileLock)
			_ = syscall.Flock(int(fl.fh.Fd()), syscall.LOCK_UN)
			fl.fh.Close()
			fl.fh = nil
		},
		lockTTL: time.Second,
	})
}

func TestFileDriverWritesPrivateFiles(t *testing.T) {
	dir := t.TempDir()
	d, err := NewFileDriver(filepath.Join(dir, "releases"), CompressionZstd)
	if err != nil {
		t.Fatal(err)
	}
	s := NewStore(d)
	deployed(t, s, "prod", "web", 1)
	p := filepath.Join(dir, "releases", "prod", "web", "v1.yaml")
	st, err := os.Stat(p)
	if err != nil {
		t.Fatalf("record not at %s: %v", p, err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("%s has mode %v, want 0600", p, st.Mode().Perm())
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, "releases", "prod", "web", ".tmp-*"))
	if len(leftovers) != 0 {
		t.Fatalf("temporary files left: %v", leftovers)
	}
}

func TestFileDriverRefusesWorldWritableDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "open")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	_, err := NewFileDriver(dir, CompressionZstd)
	if err == nil || !strings.Contains(err.Error(), "chmod go-w") {
		t.Fatalf("world-writable dir: %v", err)
	}
}
