package e2e

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sherpack/kubectl-sherpack/internal/testenv"
)

// generate_secret keeps the value an earlier revision generated: an upgrade (with other values)
// does not rotate it, a rollback keeps it too, and a secret first asked for by the upgrade is
// new.
func TestGenerateSecretSurvivesUpgrade(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	tpl := "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData:\n  password: {{ generate_secret(\"db-password\", 24) }}\n" +
		"  mode: {{ values.mode }}\n{% if values.second %}  token: {{ generate_secret(\"token\", 16, \"hex\") }}\n{% endif %}"
	dir := writeFiles(t, map[string]string{
		"Pack.yaml":        "apiVersion: sherpack/v1\nmetadata: {name: sec, version: 0.1.0}\n",
		"values.yaml":      "mode: a\nsecond: false\n",
		"templates/s.yaml": tpl,
	})
	read := func() map[string][]byte {
		s, err := testenv.Clientset(t).CoreV1().Secrets(ns).Get(context.Background(), "db", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return s.Data
	}
	mustSherpack(t, "install", "sec", dir, "-n", ns)
	first := read()
	if len(first["password"]) != 24 {
		t.Fatalf("generated password: %q", first["password"])
	}
	mustSherpack(t, "upgrade", "sec", dir, "-n", ns, "--set", "mode=b", "--set", "second=true")
	second := read()
	if string(second["mode"]) != "b" {
		t.Fatalf("the upgrade was not applied: %q", second["mode"])
	}
	if string(second["password"]) != string(first["password"]) {
		t.Fatal("the upgrade rotated the generated password")
	}
	if len(second["token"]) != 16 {
		t.Fatalf("a secret new in this revision: %q", second["token"])
	}
	mustSherpack(t, "rollback", "sec", "1", "-n", ns)
	mustSherpack(t, "upgrade", "sec", dir, "-n", ns, "--set", "mode=c")
	if third := read(); string(third["password"]) != string(first["password"]) || string(third["mode"]) != "c" {
		t.Fatalf("after rollback and upgrade: password kept %v, mode %q", string(third["password"]) == string(first["password"]), third["mode"])
	}
}
