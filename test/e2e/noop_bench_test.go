package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sherpack/kubectl-sherpack/internal/testenv"
)

// scalePack writes a pack of n objects shaped as hack/bench-scale.sh's (80% ConfigMaps, 18%
// Services, 2% Deployments of one replica).
func scalePack(b *testing.B, n int) string {
	b.Helper()
	dir := b.TempDir()
	var t strings.Builder
	deps := n / 50
	svcs := n * 18 / 100
	cms := n - deps - svcs
	for i := 0; i < cms; i++ {
		fmt.Fprintf(&t, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\ndata:\n  key: \"value-%d\"\n  tag: \"{{ values.tag }}\"\n", i, i)
	}
	for i := 0; i < svcs; i++ {
		fmt.Fprintf(&t, "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: svc-%d\nspec:\n  selector: {app: web-%d}\n  ports: [{name: http, port: 80, targetPort: 8080}]\n", i, i%max(deps, 1))
	}
	for i := 0; i < deps; i++ {
		fmt.Fprintf(&t, "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-%d\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: web-%d}\n  template:\n    metadata:\n      labels: {app: web-%d}\n    spec:\n      containers:\n      - name: web\n        image: \"{{ values.image }}\"\n        ports: [{containerPort: 8080}]\n", i, i, i)
	}
	files := map[string]string{
		"Pack.yaml":          "apiVersion: sherpack/v1\nmetadata: {name: scale, version: 1.0.0}\n",
		"values.yaml":        "image: registry.local/web:1\ntag: \"1\"\n",
		"templates/all.yaml": t.String(),
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

// runTimed runs the plugin binary and returns its output and the CPU time it used.
func runTimed(b *testing.B, args ...string) (string, time.Duration) {
	b.Helper()
	cmd := exec.Command(testenv.PluginBinary(), args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+testenv.Kubeconfig())
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("kubectl-sherpack %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

// BenchmarkNoopUpgrade3000 is an upgrade of a 3,000-object release that changes nothing (the
// issue #13 target: at most 1 s), run by the plugin binary as a user runs it. cpu-s/op is the
// CPU the client used (user + system), which is what the no-op path spends apart from its API
// requests.
func BenchmarkNoopUpgrade3000(b *testing.B) {
	const n = 3000
	ns := testenv.Namespace(b)
	dir := scalePack(b, n)
	runTimed(b, "install", "scale", dir, "-n", ns, "--wait", "--timeout", "15m", "--progress=none")
	want := fmt.Sprintf("%d objects (0 created, 0 changed, %d unchanged)", n, n)
	var cpu time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, c := runTimed(b, "upgrade", "scale", dir, "-n", ns, "--wait", "--timeout", "15m", "--progress=none")
		cpu += c
		if !strings.Contains(out, want) {
			b.Fatalf("upgrade %d was not a no-op: want %q in\n%s", i+1, want, out)
		}
	}
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
}
