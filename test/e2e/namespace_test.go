package e2e

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sherpack/kubectl-sherpack/internal/testenv"
)

func ownNamespace(ns string) string {
	return `apiVersion: v1
kind: Namespace
metadata: {name: ` + ns + `, labels: {team: corpus}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: ` + ns + `}
data: {a: "1"}
`
}

func gone(t *testing.T, ns string) bool {
	t.Helper()
	n, err := testenv.Clientset(t).CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return true
	}
	if err != nil {
		t.Fatal(err)
	}
	return n.DeletionTimestamp != nil
}

// A release that holds its own Namespace installs without flags and with --create-namespace,
// and its uninstall deletes that Namespace when nothing else is in it.
func TestReleaseWithItsOwnNamespace(t *testing.T) {
	t.Parallel()
	for _, flags := range [][]string{nil, {"--create-namespace"}} {
		ns := "own-ns-" + strings.TrimPrefix(strings.Join(flags, ""), "--")
		if flags == nil {
			ns += "plain"
		}
		t.Cleanup(func() {
			_ = testenv.Clientset(t).CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
		})
		dir := writeFiles(t, map[string]string{"all.yaml": ownNamespace(ns)})
		mustSherpack(t, append([]string{"install", "own", "-f", dir, "-n", ns}, flags...)...)
		n, err := testenv.Clientset(t).CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if n.Labels["team"] != "corpus" || n.Labels["sherpack.io/release-name"] != "own" {
			t.Fatalf("the Namespace must be the release's, as its manifest says: %v", n.Labels)
		}
		if r := sherpack(t, "diff", "drift", "own", "-n", ns, "--detailed-exitcode"); r.code != 0 {
			t.Fatalf("drift of an untouched release with its own Namespace: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		un := mustSherpack(t, "uninstall", "own", "-n", ns)
		if !gone(t, ns) {
			t.Fatalf("flags %v: the release's empty Namespace must be deleted by uninstall:\n%s", flags, un.stdout)
		}
	}
}

// A Namespace of the release that holds objects of someone else is kept, and uninstall says why;
// a namespace made by --create-namespace that is not part of the release is kept and reported.
func TestNamespaceKeptWhenNotEmptyOrNotInRelease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cs := testenv.Clientset(t)
	ns := "own-ns-foreign"
	t.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}) })
	mustSherpack(t, "install", "own", "-f", writeFiles(t, map[string]string{"all.yaml": ownNamespace(ns)}), "-n", ns)
	if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "not-ours"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	un := mustSherpack(t, "uninstall", "own", "-n", ns)
	if gone(t, ns) || !strings.Contains(un.stdout, "kept Namespace/"+ns+" (it holds 1 objects not of this release (ConfigMap/not-ours))") {
		t.Fatalf("a Namespace holding another's object must be kept, and the output say so:\n%s", un.stdout)
	}
	if _, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "settings", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the release's own ConfigMap must be deleted: %v", err)
	}

	ns2 := "created-ns-only"
	t.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(ctx, ns2, metav1.DeleteOptions{}) })
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
	mustSherpack(t, "install", "plain", "-f", writeFiles(t, map[string]string{"c.yaml": cm}), "-n", ns2, "--create-namespace")
	un = mustSherpack(t, "uninstall", "plain", "-n", ns2)
	if gone(t, ns2) || !strings.Contains(un.stdout, "kept Namespace/"+ns2+" (created for this release by --create-namespace, but not part of its manifests)") {
		t.Fatalf("a namespace made by --create-namespace is kept, and the output says so:\n%s", un.stdout)
	}
}

// A release made with --create-namespace that also holds another Namespace: its own namespace
// carries the release's labels, and the label sweep (which finds what failed upgrades left)
// lists Namespaces. The release's namespace must still never be pruned by an upgrade nor deleted
// by uninstall, since no manifest of the release holds it; the other Namespace is deleted.
func TestCreatedNamespaceNotSweptWithAnotherNamespaceInRelease(t *testing.T) {
	t.Parallel()
	ns, other := "created-ns-swept", "extra-ns-swept"
	ctx := context.Background()
	cs := testenv.Clientset(t)
	t.Cleanup(func() {
		_ = cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
		_ = cs.CoreV1().Namespaces().Delete(ctx, other, metav1.DeleteOptions{})
	})
	files := writeFiles(t, map[string]string{"all.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: " + other +
		"}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: \"1\"}\n"})
	mustSherpack(t, "install", "two", "-f", files, "-n", ns, "--create-namespace")
	up := mustSherpack(t, "upgrade", "two", "-f", files, "-n", ns, "--progress=plain")
	if strings.Contains(up.stdout+up.stderr, "Namespace/"+ns) {
		t.Fatalf("an upgrade must not treat the release's namespace as something to prune:\n%s\n%s", up.stdout, up.stderr)
	}
	un := mustSherpack(t, "uninstall", "two", "-n", ns)
	if gone(t, ns) || !strings.Contains(un.stdout, "kept Namespace/"+ns+" (created for this release by --create-namespace, but not part of its manifests)") {
		t.Fatalf("the namespace made by --create-namespace must be kept, and the output say so:\n%s", un.stdout)
	}
	if !gone(t, other) {
		t.Fatalf("the release's own Namespace/%s must be deleted:\n%s", other, un.stdout)
	}
}
