package helmimport

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"os"
	"strings"
	"testing"
	"time"
)

// helmPayload encodes release JSON as Helm's storage does: gzip, then base64.
func helmPayload(t *testing.T, js []byte, compress bool) []byte {
	t.Helper()
	raw := js
	if compress {
		var b bytes.Buffer
		zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := zw.Write(js); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		raw = b.Bytes()
	}
	return []byte(base64.StdEncoding.EncodeToString(raw))
}

func readFixture(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/helm4-release-v2.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodePayload(t *testing.T) {
	js := readFixture(t)
	for _, compress := range []bool{true, false} {
		rec, err := DecodePayload(helmPayload(t, js, compress), "Secret shop-ns/sh.helm.release.v1.shop.v2")
		if err != nil {
			t.Fatalf("compress=%v: %v", compress, err)
		}
		if rec.Name != "shop" || rec.Namespace != "shop-ns" || rec.Version != 2 || rec.Status != "deployed" {
			t.Fatalf("identity: %+v", rec)
		}
		if rec.Description != "Upgrade complete" || rec.Notes != "Visit http://shop.example.com\n" || rec.ApplyMethod != "ssa" {
			t.Fatalf("info: %q %q %q", rec.Description, rec.Notes, rec.ApplyMethod)
		}
		want := time.Date(2026, 11, 30, 11, 30, 0, 500_000_000, time.UTC)
		if !rec.LastDeployed.Equal(want) || rec.FirstDeployed.Nanosecond() != 123456789 {
			t.Fatalf("times: %v %v", rec.FirstDeployed, rec.LastDeployed)
		}
		if rec.Chart != (ChartMeta{Name: "shop", Version: "1.2.3", AppVersion: "4.5.6", Description: "A shop"}) {
			t.Fatalf("chart: %+v", rec.Chart)
		}
		// Integers stay integers (not float64), so that values render as Helm rendered them.
		if v, ok := rec.Config["replicaCount"].(int64); !ok || v != 3 {
			t.Fatalf("config replicaCount: %#v", rec.Config["replicaCount"])
		}
		if _, ok := rec.Config["extra"]; !ok || rec.Config["extra"] != nil {
			t.Fatalf("a null in the user values must be kept (it deletes a default): %#v", rec.Config)
		}
		if v, ok := rec.ChartValues["service"].(map[string]any)["port"].(int64); !ok || v != 80 {
			t.Fatalf("chart values: %#v", rec.ChartValues)
		}
		if len(rec.Hooks) != 1 || rec.Hooks[0].Weight != -5 || rec.Hooks[0].LastRun.Phase != "Succeeded" ||
			strings.Join(rec.Hooks[0].Events, ",") != "pre-install,pre-upgrade" || rec.Hooks[0].LastRun.StartedAt.IsZero() {
			t.Fatalf("hooks: %+v", rec.Hooks)
		}
		if !strings.Contains(rec.Manifest, "# Source: shop/templates/deployment.yaml") {
			t.Fatalf("manifest: %q", rec.Manifest)
		}
	}
}

func TestDecodePayloadEmptyTimes(t *testing.T) {
	// Helm releases written before 3.x's time handling carry "" for times never set.
	js := `{"name":"a","version":1,"namespace":"n","info":{"first_deployed":"","last_deployed":"","deleted":"","status":"deployed"},
	"hooks":[{"name":"h","kind":"Job","last_run":{"started_at":"","completed_at":"","phase":""}}]}`
	rec, err := DecodePayload(helmPayload(t, []byte(js), true), "x")
	if err != nil {
		t.Fatal(err)
	}
	if !rec.LastDeployed.IsZero() || !rec.Hooks[0].LastRun.StartedAt.IsZero() {
		t.Fatalf("empty times must read as zero: %+v", rec)
	}
}

func TestDecodePayloadErrors(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
		want    string
	}{
		{"not base64", []byte("%%%not base64%%%"), "not base64"},
		{"bad gzip", []byte(base64.StdEncoding.EncodeToString([]byte{0x1f, 0x8b, 0x08, 0, 1, 2, 3})), "not valid gzip"},
		{"not JSON", helmPayload(t, []byte("{nope"), true), "cannot be read"},
		{"not a release", helmPayload(t, []byte(`{"kind":"ConfigMap"}`), true), "not a Helm release record"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodePayload(tc.payload, "Secret n/sh.helm.release.v1.a.v1")
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "Secret n/sh.helm.release.v1.a.v1") {
				t.Fatalf("error %v, want one naming the record and saying %q", err, tc.want)
			}
		})
	}
}

func TestNormalizeStorage(t *testing.T) {
	for in, want := range map[string]string{"": StorageSecret, "secrets": StorageSecret, "Secret": StorageSecret, "configmap": StorageCM, "configmaps": StorageCM} {
		if got, err := NormalizeStorage(in); err != nil || got != want {
			t.Errorf("%q: %q %v, want %q", in, got, err, want)
		}
	}
	if _, err := NormalizeStorage("sql"); err == nil || !strings.Contains(err.Error(), "--helm-storage") {
		t.Fatalf("sql: %v", err)
	}
}
