// Package testenv gives tests the real local control plane: `make test` starts one and passes
// its kubeconfig in SHERPACK_TEST_KUBECONFIG; a package run on its own (go test ./pkg/x) starts a
// private one from the binaries in _output/tools (built by `make tools`).
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/sherpack/kubectl-sherpack/internal/cluster"
)

var (
	kubeconfig string
	pluginBin  string
	pluginDir  string
	buildOnce  sync.Once
)

// Main runs the package's tests with a control plane (and the plugin binary) available.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	kubeconfig = os.Getenv("SHERPACK_TEST_KUBECONFIG")
	pluginBin = os.Getenv("SHERPACK_TEST_BIN")
	if pluginBin == "" {
		dir, err := os.MkdirTemp("", "sherpack-bin")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		pluginDir = dir
	}
	if kubeconfig == "" {
		dir, err := os.MkdirTemp("", "sherpack-cluster")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		c, err := cluster.Start(ctx, cluster.Options{BinDir: ToolsDir(), Dir: dir})
		cancel()
		if err != nil {
			fmt.Fprintln(os.Stderr, "local control plane:", err)
			return 1
		}
		kubeconfig = c.Kubeconfig
		code := m.Run()
		c.Stop()
		if code == 0 {
			os.RemoveAll(dir)
		} else {
			fmt.Fprintln(os.Stderr, "control plane logs kept in", c.LogDir())
		}
		return code
	}
	return m.Run()
}

// ProjectRoot is the directory of the main go.mod.
func ProjectRoot() string {
	wd, _ := os.Getwd()
	for d := wd; d != "/"; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "hack", "tools", "go.mod")); err == nil {
			return d
		}
	}
	return wd
}

// ToolsDir holds the control plane binaries and kubectl.
func ToolsDir() string {
	if d := os.Getenv("SHERPACK_TEST_TOOLS"); d != "" {
		return d
	}
	return filepath.Join(ProjectRoot(), "_output", "tools")
}

// Kubeconfig is the admin kubeconfig of the control plane.
func Kubeconfig() string { return kubeconfig }

// PluginBinary is the built kubectl-sherpack: the one `make test` built, or one built on first use.
func PluginBinary() string {
	buildOnce.Do(func() {
		if pluginBin != "" {
			return
		}
		pluginBin = filepath.Join(pluginDir, "kubectl-sherpack")
		build := exec.Command("go", "build", "-o", pluginBin, "./cmd/kubectl-sherpack")
		build.Dir, build.Stdout, build.Stderr = ProjectRoot(), os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			panic(fmt.Sprintf("build kubectl-sherpack: %v", err))
		}
	})
	return pluginBin
}

// RESTConfig is the admin client configuration, with client-side throttling out of the way.
func RESTConfig(t testing.TB) *rest.Config {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatalf("kubeconfig: %v", err)
	}
	cfg.QPS, cfg.Burst = 500, 1000
	return cfg
}

// Clientset is a typed admin client.
func Clientset(t testing.TB) *kubernetes.Clientset {
	t.Helper()
	cs, err := kubernetes.NewForConfig(RESTConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// Dynamic is a dynamic admin client.
func Dynamic(t testing.TB) dynamic.Interface {
	t.Helper()
	dc, err := dynamic.NewForConfig(RESTConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	return dc
}

// Namespace creates a fresh namespace for one test and deletes it when the test ends.
func Namespace(t testing.TB) string {
	t.Helper()
	cs := Clientset(t)
	name := strings.ToLower(fmt.Sprintf("t-%s-%s", sanitize(t.Name()), randSuffix()))
	if len(name) > 63 {
		name = name[len(name)-63:]
		name = strings.TrimLeft(name, "-")
	}
	ctx := context.Background()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = cs.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	return name
}

// ServiceAccountKubeconfig creates a ServiceAccount in ns, mints a token for it and writes a
// kubeconfig for that unprivileged identity. It has no rights until a test binds some.
func ServiceAccountKubeconfig(t testing.TB, ns, name string) string {
	t.Helper()
	cs := Clientset(t)
	ctx := context.Background()
	if _, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create serviceaccount %s/%s: %v", ns, name, err)
	}
	exp := int64(3600)
	tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &exp}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("token for %s/%s: %v", ns, name, err)
	}
	cfg := RESTConfig(t)
	path := filepath.Join(t.TempDir(), "kubeconfig-"+name)
	content := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: %q, insecure-skip-tls-verify: true}}]
users: [{name: %s, user: {token: %q}}]
contexts: [{name: local, context: {cluster: local, user: %s, namespace: %s}}]
current-context: local
`, cfg.Host, name, tr.Status.Token, name, ns)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Eventually polls f until it returns nil or the limit passes; the last error fails the test.
func Eventually(t testing.TB, limit time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %v", limit, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func sanitize(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String(), "-")
}

func randSuffix() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
