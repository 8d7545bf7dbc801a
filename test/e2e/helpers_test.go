package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"

	"github.com/sherpack/kubectl-sherpack/internal/testenv"
	"github.com/sherpack/kubectl-sherpack/pkg/releases"
)

const webapp = "../../examples/webapp"

// mustSherpack runs the plugin and fails the test unless it exits 0.
func mustSherpack(t *testing.T, args ...string) result {
	t.Helper()
	r := sherpack(t, args...)
	if r.code != 0 {
		t.Fatalf("kubectl sherpack %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// expectExit runs the plugin and checks the exit code and that stderr says want.
func expectExit(t *testing.T, code int, want string, args ...string) result {
	t.Helper()
	r := sherpack(t, args...)
	if r.code != code || !strings.Contains(r.stderr, want) {
		t.Fatalf("kubectl sherpack %s: exit %d, want %d with %q\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, code, want, r.stdout, r.stderr)
	}
	return r
}

// releaseSecrets lists the release records in a namespace (chunks excluded).
func releaseSecrets(t *testing.T, ns string) []corev1.Secret {
	t.Helper()
	l, err := testenv.Clientset(t).CoreV1().Secrets(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "owner=sherpack"})
	if err != nil {
		t.Fatal(err)
	}
	return l.Items
}

// history returns "rev:state" of each revision, from the plugin's JSON output.
func history(t *testing.T, ns, name string) string {
	t.Helper()
	r := mustSherpack(t, "history", name, "-n", ns, "-o", "json")
	var list struct {
		Items []struct {
			Revision int    `json:"revision"`
			Status   string `json:"status"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatalf("history -o json: %v\n%s", err, r.stdout)
	}
	var parts []string
	for _, i := range list.Items {
		parts = append(parts, strings.Join([]string{itoa(i.Revision), i.Status}, ":"))
	}
	return strings.Join(parts, " ")
}

func itoa(i int) string { return strconv.Itoa(i) }

// writeFiles writes name->content under a fresh temp dir and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type corev1ConfigMap struct{ ObjectMeta metav1.ObjectMeta }

func (c corev1ConfigMap) cm() *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: c.ObjectMeta, Data: map[string]string{"mine": "yes"}}
}

// secretsStore is the release store the plugin uses by default, for tests that hold a lock.
func secretsStore(t *testing.T) *releases.Store {
	t.Helper()
	cfg := testenv.RESTConfig(t)
	cs := kubernetes.NewForConfigOrDie(cfg)
	md := metadata.NewForConfigOrDie(cfg)
	return releases.NewStore(releases.NewSecretsDriver(cs, md, releases.KubeOptions{}))
}
