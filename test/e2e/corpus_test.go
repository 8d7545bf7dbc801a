package e2e

import (
	"context"
	"encoding/base64"
	"path/filepath"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/sherpack/kubectl-sherpack/internal/testenv"
)

// kubectl runs the real kubectl with the admin kubeconfig and fails the test unless it exits 0.
func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	r := runCmd(t, filepath.Join(testenv.ToolsDir(), "kubectl"), []string{"KUBECONFIG=" + testenv.Kubeconfig()}, args...)
	if r.code != 0 {
		t.Fatalf("kubectl %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// corpusSet is one manifest set of testdata/corpus, modelled on what public projects ship, and
// the hand edits made to it, each with the one drift line it must produce.
type corpusSet struct {
	dir, namespace string
	jobs           []string
	crds           []string
	edits          []handEdit
}

type handEdit struct {
	kubectl []string
	drift   string // the DRIFT line's path, as printed
}

var corpusSets = []corpusSet{
	{
		dir: "testdata/corpus/ingress", namespace: "corpus-ingress",
		jobs: []string{"corpus-ingress-admission-create", "corpus-ingress-admission-patch"},
		edits: []handEdit{
			{[]string{"scale", "deployment/corpus-ingress-controller", "--replicas=3"}, "DRIFT  .spec.replicas was changed by hand"},
			{[]string{"set", "env", "deployment/corpus-ingress-controller", "LD_PRELOAD=/usr/lib/other.so"},
				"DRIFT  .spec.template.spec.containers[name=controller].env[name=LD_PRELOAD].value was changed by hand"},
			{[]string{"annotate", "--overwrite", "ingress/corpus-ingress-status", "corpus.sherpack.io/rewrite-target=/v2"},
				"DRIFT  .metadata.annotations.corpus.sherpack.io/rewrite-target was changed by hand"},
			{[]string{"patch", "secret/corpus-ingress-default-cert", "-p", `{"data":{"token":"` + base64.StdEncoding.EncodeToString([]byte("rotated-by-hand")) + `"}}`},
				"DRIFT  .data.token was changed by hand"},
		},
	},
	{
		dir: "testdata/corpus/operator", namespace: "corpus-operator",
		jobs: []string{"corpus-operator-admission-create"},
		crds: []string{"collectors.monitoring.corpus.sherpack.io", "alertrouters.monitoring.corpus.sherpack.io"},
		edits: []handEdit{
			{[]string{"scale", "deployment/corpus-operator", "--replicas=2"}, "DRIFT  .spec.replicas was changed by hand"},
			{[]string{"set", "env", "deployment/corpus-operator", "GOGC=100"},
				"DRIFT  .spec.template.spec.containers[name=operator].env[name=GOGC].value was changed by hand"},
			{[]string{"annotate", "--overwrite", "deployment/corpus-operator", "corpus.sherpack.io/owner-team=platform"},
				"DRIFT  .metadata.annotations.corpus.sherpack.io/owner-team was changed by hand"},
			{[]string{"patch", "secret/corpus-operator-credentials", "-p", `{"data":{"password":"` + base64.StdEncoding.EncodeToString([]byte("p4ssw0rd-by-hand")) + `"}}`},
				"DRIFT  .data.password was changed by hand"},
		},
	},
}

// Each corpus set goes through a whole lifecycle with no extra flag: install (its own Namespace,
// Jobs awaited to completion), no drift, no diff, an upgrade that changes nothing; then hand
// edits, each reported as exactly one drift line (Secret values hidden); then uninstall, which
// keeps the CRDs and deletes the release's Namespace.
func TestCorpus(t *testing.T) {
	for _, c := range corpusSets {
		t.Run(filepath.Base(c.dir), func(t *testing.T) {
			t.Parallel()
			c.run(t)
		})
	}
}

func (c corpusSet) run(t *testing.T) {
	ctx := context.Background()
	cs := testenv.Clientset(t)
	name, ns := filepath.Base(c.dir), c.namespace
	t.Cleanup(func() {
		sherpack(t, "uninstall", name, "-n", ns)
		_ = cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
		crdGVR := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
		for _, crd := range c.crds {
			_ = testenv.Dynamic(t).Resource(crdGVR).Delete(ctx, crd, metav1.DeleteOptions{})
		}
	})
	in := mustSherpack(t, "install", name, "-f", c.dir, "-n", ns)
	if !strings.Contains(in.stdout, name+" installed") {
		t.Fatalf("install: %s", in.stdout)
	}
	for _, j := range c.jobs {
		job, err := cs.BatchV1().Jobs(ns).Get(ctx, j, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if job.Status.Succeeded < 1 || job.Status.CompletionTime == nil {
			t.Fatalf("install returned before Job %s completed: %+v", j, job.Status)
		}
	}
	noDrift := func(when string) {
		t.Helper()
		if r := sherpack(t, "diff", "drift", name, "-n", ns, "--detailed-exitcode"); r.code != 0 {
			t.Fatalf("diff drift %s: exit %d, want 0 (nobody touched the release)\n%s%s", when, r.code, r.stdout, r.stderr)
		}
	}
	noDrift("after install")
	if r := sherpack(t, "diff", "upgrade", name, "-f", c.dir, "-n", ns, "--detailed-exitcode"); r.code != 0 {
		t.Fatalf("diff upgrade of the same input: exit %d, want 0\n%s%s", r.code, r.stdout, r.stderr)
	}
	up := mustSherpack(t, "upgrade", name, "-f", c.dir, "-n", ns)
	if !strings.Contains(up.stdout, " 0 changed") || strings.Contains(up.stdout, " 0 unchanged") {
		t.Fatalf("upgrade of the same input must change nothing: %s", up.stdout)
	}
	noDrift("after a no-op upgrade")

	for _, e := range c.edits {
		kubectl(t, append(e.kubectl, "-n", ns)...)
	}
	dr := sherpack(t, "diff", "drift", name, "-n", ns, "--detailed-exitcode")
	if dr.code != 2 {
		t.Fatalf("diff drift after hand edits: exit %d, want 2\n%s%s", dr.code, dr.stdout, dr.stderr)
	}
	if n := strings.Count(dr.stdout, "DRIFT "); n != len(c.edits) {
		t.Fatalf("%d hand edits must give %d drift lines, got %d:\n%s", len(c.edits), len(c.edits), n, dr.stdout)
	}
	for _, e := range c.edits {
		if strings.Count(dr.stdout, e.drift) != 1 {
			t.Errorf("kubectl %s: want exactly one line %q in:\n%s", strings.Join(e.kubectl, " "), e.drift, dr.stdout)
		}
	}
	for _, secret := range []string{"rotated-by-hand", "initial-token-value", "p4ssw0rd-by-hand", "s3cr3t"} {
		if strings.Contains(dr.stdout, secret) || strings.Contains(dr.stdout, base64.StdEncoding.EncodeToString([]byte(secret))) {
			t.Errorf("a Secret value is printed (%q):\n%s", secret, dr.stdout)
		}
	}

	un := mustSherpack(t, "uninstall", name, "-n", ns)
	for _, crd := range c.crds {
		if !strings.Contains(un.stdout, "kept CustomResourceDefinition/"+crd) {
			t.Errorf("uninstall must say it kept %s:\n%s", crd, un.stdout)
		}
		if _, err := testenv.Dynamic(t).Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}).Get(ctx, crd, metav1.GetOptions{}); err != nil {
			t.Errorf("CRD %s after uninstall: %v", crd, err)
		}
	}
	nsObj, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	if err == nil && nsObj.DeletionTimestamp == nil {
		t.Errorf("the release's own Namespace %s is empty of anything else and must be deleted:\n%s", ns, un.stdout)
	}
}
