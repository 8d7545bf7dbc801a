package e2e

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sherpack/kubectl-sherpack/internal/testenv"
	"github.com/sherpack/kubectl-sherpack/pkg/releases"
)

// Release payloads and Secret values never reach logs, whatever -v says: client logs stop below
// the level that prints bodies. `get values` prints the values asked for; diff masks Secrets.
func TestPayloadsNeverLogged(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	const canary = "canary-Pa55w0rd-7f3e"
	dir := writeFiles(t, map[string]string{
		"Pack.yaml":   "apiVersion: sherpack/v1\nkind: application\nmetadata: {name: vault, version: 0.1.0}\n",
		"values.yaml": "password: changeme\n",
		"templates/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData:\n  password: {{ values.password }}\n" +
			"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {hint: {{ values.password | sha256 | trunc(8) }}}\n",
	})
	var logs strings.Builder
	run := func(args ...string) result {
		t.Helper()
		r := mustSherpack(t, append(args, "-n", ns, "-v=10")...)
		logs.WriteString(r.stderr)
		return r
	}
	run("install", "vault", dir, "--set", "password="+canary, "--progress=plain")
	rec, err := testenv.Clientset(t).CoreV1().Secrets(ns).Get(context.Background(), releases.ObjectName("vault", 1), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	payload := rec.Data["release"]
	if len(payload) < 64 {
		t.Fatalf("record payload of %d bytes: where is it kept? data keys %v", len(payload), keys(rec.Data))
	}
	run("upgrade", "vault", dir, "--reuse-values", "--progress=plain")
	run("history", "vault")
	run("status", "vault", "--show-resources")
	run("list")
	run("get", "all", "vault")
	diff := sherpack(t, "diff", "upgrade", "vault", dir, "--set", "password=other-"+canary, "-n", ns, "-v=10")
	logs.WriteString(diff.stderr)
	values := run("get", "values", "vault")

	all := logs.String()
	if !strings.Contains(all, "capped at 7") || !strings.Contains(all, `verb="GET" url="https://`) || !strings.Contains(all, "Bearer <masked>") {
		t.Fatalf("-v=10 should log requests (capped at 7):\n%.2000s", all)
	}
	for what, secret := range map[string]string{
		"the Secret value":               canary,
		"the Secret value, base64":       base64.StdEncoding.EncodeToString([]byte(canary)),
		"the release payload, base64":    base64.StdEncoding.EncodeToString(payload)[:48],
		"the release payload, raw bytes": string(payload[16:48]),
	} {
		if strings.Contains(all, secret) {
			t.Fatalf("%s appears in the logs", what)
		}
	}
	if strings.Contains(diff.stdout, canary) || strings.Contains(diff.stdout, "other-"+canary) || !strings.Contains(diff.stdout, "Secret/"+ns+"/db") {
		t.Fatalf("diff must name the changed Secret and mask its values:\n%s", diff.stdout)
	}
	if !strings.Contains(values.stdout, canary) {
		t.Fatalf("get values prints the values it is asked for:\n%s", values.stdout)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
