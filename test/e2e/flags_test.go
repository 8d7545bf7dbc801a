package e2e

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sherpack/kubectl-sherpack/internal/testenv"
	"github.com/sherpack/kubectl-sherpack/pkg/releases"
)

// The flags of upgrade and the read commands that the lifecycle test does not cover.
func TestUpgradeFlags(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	cs := testenv.Clientset(t)
	ctx := context.Background()
	// upgrade --install on a missing release installs it; --create-namespace makes the namespace.
	fresh := ns + "-new"
	t.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(context.Background(), fresh, metav1.DeleteOptions{}) })
	r := mustSherpack(t, "upgrade", "shop", webapp, "-n", fresh, "--install", "--create-namespace", "--set", "replicas=1", "--description", "first of its name")
	if !strings.Contains(r.stdout, "shop installed: revision 1") {
		t.Fatalf("upgrade --install: %s", r.stdout)
	}
	if h := mustSherpack(t, "history", "shop", "-n", fresh).stdout; !strings.Contains(h, "first of its name") {
		t.Fatalf("--description not recorded:\n%s", h)
	}
	// --reuse-values keeps replicas=1 and adds the new flag; --reset-then-reuse-values too.
	mustSherpack(t, "install", "shop", webapp, "-n", ns, "--set", "replicas=1")
	mustSherpack(t, "upgrade", "shop", webapp, "-n", ns, "--reuse-values", "--set", "config.logLevel=debug")
	cm, _ := cs.CoreV1().ConfigMaps(ns).Get(ctx, "shop-webapp-config", metav1.GetOptions{})
	d, _ := cs.AppsV1().Deployments(ns).Get(ctx, "shop-webapp", metav1.GetOptions{})
	if cm.Data["LOG_LEVEL"] != "debug" || *d.Spec.Replicas != 1 {
		t.Fatalf("--reuse-values: LOG_LEVEL=%s replicas=%d", cm.Data["LOG_LEVEL"], *d.Spec.Replicas)
	}
	// With value flags and no reuse flag, only the new values count (replicas back to 2).
	mustSherpack(t, "upgrade", "shop", webapp, "-n", ns, "--set", "config.logLevel=warn")
	d, _ = cs.AppsV1().Deployments(ns).Get(ctx, "shop-webapp", metav1.GetOptions{})
	if *d.Spec.Replicas != 2 {
		t.Fatalf("value flags without --reuse-values must not reuse: replicas %d", *d.Spec.Replicas)
	}
	mustSherpack(t, "upgrade", "shop", webapp, "-n", ns, "--reset-then-reuse-values", "--set", "replicas=4")
	cm, _ = cs.CoreV1().ConfigMaps(ns).Get(ctx, "shop-webapp-config", metav1.GetOptions{})
	d, _ = cs.AppsV1().Deployments(ns).Get(ctx, "shop-webapp", metav1.GetOptions{})
	if cm.Data["LOG_LEVEL"] != "warn" || *d.Spec.Replicas != 4 {
		t.Fatalf("--reset-then-reuse-values: LOG_LEVEL=%s replicas=%d", cm.Data["LOG_LEVEL"], *d.Spec.Replicas)
	}
	expectExit(t, 3, "exclude each other", "upgrade", "shop", webapp, "-n", ns, "--reuse-values", "--reset-values")
	// --no-hooks: the migration Job is not run, so its hook record keeps its last run.
	r = mustSherpack(t, "upgrade", "shop", webapp, "-n", ns, "--no-hooks")
	if strings.Contains(r.stdout, "hook runs") {
		t.Fatalf("--no-hooks ran hooks: %s", r.stdout)
	}
	// --history-max 2 keeps two revisions.
	mustSherpack(t, "upgrade", "shop", webapp, "-n", ns, "--history-max", "2")
	h := history(t, ns, "shop")
	if len(strings.Fields(h)) != 2 || !strings.HasSuffix(h, ":deployed") {
		t.Fatalf("--history-max 2: %s", h)
	}
	if n := len(releaseSecrets(t, ns)); n != 2 {
		t.Fatalf("--history-max 2 left %d records", n)
	}
	// history --max, status --revision, list --max.
	if out := mustSherpack(t, "history", "shop", "-n", ns, "--max", "1", "--no-headers").stdout; len(strings.Split(strings.TrimSpace(out), "\n")) != 1 {
		t.Fatalf("history --max 1:\n%s", out)
	}
	revs := strings.Fields(h)
	first := strings.Split(revs[0], ":")[0]
	if out := mustSherpack(t, "status", "shop", "-n", ns, "--revision", first).stdout; !strings.Contains(out, "REVISION: "+first) {
		t.Fatalf("status --revision %s:\n%s", first, out)
	}
	mustSherpack(t, "install", "other", "-f", writeFiles(t, map[string]string{"a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: o}\n"}), "-n", ns)
	if out := mustSherpack(t, "list", "-n", ns, "--max", "1", "--no-headers").stdout; len(strings.Split(strings.TrimSpace(out), "\n")) != 1 {
		t.Fatalf("list --max 1:\n%s", out)
	}
	if out := mustSherpack(t, "list", "-n", ns, "-l", "pack=webapp", "-o", "name").stdout; strings.TrimSpace(out) != "release.sherpack.io/shop" {
		t.Fatalf("list -l pack=webapp: %q", out)
	}
}

// --cleanup-on-fail deletes what a failed upgrade created.
func TestCleanupOnFail(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	cs := testenv.Clientset(t)
	v1 := writeFiles(t, map[string]string{"a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: base}\n"})
	v2 := writeFiles(t, map[string]string{"a.yaml": `apiVersion: v1
kind: ConfigMap
metadata: {name: base}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: new-in-v2}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: stuck, annotations: {sherpack.io/sync-wave: "1"}}
spec:
  selector: {matchLabels: {app: stuck}}
  template:
    metadata: {labels: {app: stuck, sherpack.test/never-ready: "true"}}
    spec: {containers: [{name: c, image: example.local/x:1}]}
`})
	mustSherpack(t, "install", "app", "-f", v1, "-n", ns)
	r := expectExit(t, 1, "--cleanup-on-fail", "upgrade", "app", "-f", v2, "-n", ns, "--cleanup-on-fail", "--timeout", "5s")
	if !strings.Contains(r.stderr, "were deleted") {
		t.Fatalf("cleanup message: %s", r.stderr)
	}
	for _, name := range []string{"new-in-v2"} {
		if _, err := cs.CoreV1().ConfigMaps(ns).Get(context.Background(), name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Fatalf("%s survived --cleanup-on-fail: %v", name, err)
		}
	}
	if _, err := cs.AppsV1().Deployments(ns).Get(context.Background(), "stuck", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("Deployment stuck survived --cleanup-on-fail: %v", err)
	}
	if _, err := cs.CoreV1().ConfigMaps(ns).Get(context.Background(), "base", metav1.GetOptions{}); err != nil {
		t.Fatalf("base was not created by the failed upgrade and must stay: %v", err)
	}
}

// recover: an upgrade whose process died leaves a pending revision; recover marks it failed,
// and refuses a live lock unless --force.
func TestRecoverCommand(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	mustSherpack(t, "install", "shop", webapp, "-n", ns)
	store := secretsStore(t)
	ctx := context.Background()
	op, err := store.Begin(ctx, ns, "shop", "upgrade")
	if err != nil {
		t.Fatal(err)
	}
	prev, _ := store.Latest(ctx, ns, "shop")
	pending := &releases.Release{Name: "shop", Namespace: ns, Revision: 2, State: releases.StatePendingUpgrade, Pack: prev.Pack,
		Manifest: prev.Manifest, Holder: &op.Holder}
	if err := store.Create(ctx, pending); err != nil {
		t.Fatal(err)
	}
	expectExit(t, 5, "is locked", "recover", "shop", "-n", ns)
	list := mustSherpack(t, "recover", "--list", "-n", ns)
	if strings.Contains(list.stdout, "shop") {
		t.Fatalf("a live operation listed as interrupted:\n%s", list.stdout)
	}
	r := mustSherpack(t, "recover", "shop", "-n", ns, "--force")
	if !strings.Contains(r.stdout, "revision 2 marked failed") {
		t.Fatalf("recover --force: %s", r.stdout)
	}
	_ = op.End(ctx)
	if h := history(t, ns, "shop"); h != "1:deployed 2:failed" {
		t.Fatalf("history after recover: %s", h)
	}
	r = mustSherpack(t, "recover", "shop", "-n", ns)
	if !strings.Contains(r.stdout, "nothing to recover") {
		t.Fatalf("second recover: %s", r.stdout)
	}
	// The release works again.
	mustSherpack(t, "upgrade", "shop", webapp, "-n", ns, "--set", "replicas=1")
}
