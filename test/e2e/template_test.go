package e2e

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/sherpack/kubectl-sherpack/internal/testenv"
)

// template --validate asks the API server (dry run): a valid pack passes, an invalid object is
// refused with its name, and nothing is created.
func TestTemplateValidate(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	r := mustSherpack(t, "template", "shop", webapp, "-n", ns, "--validate")
	if !strings.Contains(r.stderr, "validated by the API server") || !strings.Contains(r.stdout, "kind: Deployment") {
		t.Fatalf("template --validate:\n%s\n%s", r.stdout, r.stderr)
	}
	bad := writeFiles(t, map[string]string{"Pack.yaml": "apiVersion: sherpack/v1\nmetadata: {name: bad, version: 0.1.0}\n",
		"templates/svc.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: svc}\nspec:\n  ports: [{port: 99999}]\n"})
	expectExit(t, 3, "Service/"+ns+"/svc", "template", "bad", bad, "-n", ns, "--validate")
	if l, _ := testenv.Clientset(t).CoreV1().Services(ns).List(context.Background(), metav1.ListOptions{}); len(l.Items) != 0 {
		t.Fatal("--validate created objects")
	}
}

// An object whose kind was removed from the API (its CRD deleted by hand) is reported when it
// would be pruned, and the upgrade goes on.
func TestPruneOfRemovedKindIsNotFatal(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	crd := strings.ReplaceAll(crdAndCR, "widgets.drift.sherpack.io", "gadgets.gone.sherpack.io")
	crd = strings.ReplaceAll(crd, "drift.sherpack.io", "gone.sherpack.io")
	crd = strings.NewReplacer("kind: Widget", "kind: Gadget", "Widget,", "Gadget,", "widgets", "gadgets", "widget}", "gadget}", "WidgetList", "GadgetList").Replace(crd)
	mustSherpack(t, "install", "g", "-f", writeFiles(t, map[string]string{"a.yaml": crd, "b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: stays}\n"}), "-n", ns)
	dc := testenv.Dynamic(t)
	crdGVR := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	if err := dc.Resource(crdGVR).Delete(context.Background(), "gadgets.gone.sherpack.io", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30e9, func() error {
		_, err := dc.Resource(crdGVR).Get(context.Background(), "gadgets.gone.sherpack.io", metav1.GetOptions{})
		if err == nil {
			return errString("CRD still there")
		}
		return nil
	})
	r := mustSherpack(t, "upgrade", "g", "-f", writeFiles(t, map[string]string{"b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: stays}\n"}), "-n", ns)
	if !strings.Contains(r.stderr, "not-pruned") || !strings.Contains(r.stderr, "Gadget/"+ns+"/w") {
		t.Fatalf("the removed kind must be reported:\n%s", r.stderr)
	}
}
