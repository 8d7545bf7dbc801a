package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/sherpack/kubectl-sherpack/internal/testenv"
	"github.com/sherpack/kubectl-sherpack/pkg/apply"
	"github.com/sherpack/kubectl-sherpack/pkg/manifest"
)

const ledgerChart = "testdata/helmimport/ledger"

// helmCLI runs the real Helm binary (v4.3.1, built by make tools) with its own cache, config and
// data directories, against the test cluster.
type helmCLI struct {
	t   *testing.T
	env []string
}

func newHelm(t *testing.T, driver string) *helmCLI {
	t.Helper()
	bin := filepath.Join(testenv.ToolsDir(), "helm")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("the Helm binary the import tests drive is missing (%v): run make tools (hack/build-helm.sh)", err)
	}
	dir := t.TempDir()
	return &helmCLI{t: t, env: []string{"HELM_CACHE_HOME=" + filepath.Join(dir, "cache"), "HELM_CONFIG_HOME=" + filepath.Join(dir, "config"),
		"HELM_DATA_HOME=" + filepath.Join(dir, "data"), "HELM_DRIVER=" + driver, "KUBECONFIG=" + testenv.Kubeconfig()}}
}

func (h *helmCLI) run(args ...string) result {
	h.t.Helper()
	return runCmd(h.t, filepath.Join(testenv.ToolsDir(), "helm"), h.env, append(args, "--kubeconfig", testenv.Kubeconfig())...)
}

func (h *helmCLI) must(args ...string) result {
	h.t.Helper()
	r := h.run(args...)
	if r.code != 0 {
		h.t.Fatalf("helm %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// helmInstallAndUpgrade makes a Helm release of the ledger chart with two revisions: an install
// and an upgrade that changes the replicas and the ConfigMap (so the pods roll once, by Helm).
func helmInstallAndUpgrade(t *testing.T, h *helmCLI, ns, rel string) {
	t.Helper()
	h.must("install", rel, ledgerChart, "-n", ns, "--timeout", "2m")
	h.must("upgrade", rel, ledgerChart, "-n", ns, "--set", "replicaCount=3", "--set", "config.greeting=Hello from Helm", "--timeout", "2m")
	waitRolledOut(t, ns, rel+"-ledger", 3)
}

// waitRolledOut waits until the Deployment's pods are all of its newest ReplicaSet, ready, and
// nothing else is left running: the state in which an import must change nothing.
func waitRolledOut(t *testing.T, ns, name string, replicas int32) {
	t.Helper()
	cs := testenv.Clientset(t)
	ctx := context.Background()
	testenv.Eventually(t, 90*time.Second, func() error {
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		st := d.Status
		if *d.Spec.Replicas != replicas || st.ObservedGeneration != d.Generation || st.UpdatedReplicas != replicas ||
			st.ReadyReplicas != replicas || st.Replicas != replicas {
			return fmt.Errorf("deployment %s not rolled out: %+v", name, st)
		}
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=ledger,!app.kubernetes.io/component"})
		if err != nil {
			return err
		}
		if int32(len(pods.Items)) != replicas {
			return fmt.Errorf("%d pods, want %d", len(pods.Items), replicas)
		}
		return nil
	})
}

// liveState is every object of a namespace that an import could touch, as read back.
type liveState map[string]*unstructured.Unstructured // Kind/name -> object

var snapshotKinds = []schema.GroupVersionResource{
	{Group: "apps", Version: "v1", Resource: "deployments"},
	{Group: "apps", Version: "v1", Resource: "replicasets"},
	{Group: "", Version: "v1", Resource: "services"},
	{Group: "", Version: "v1", Resource: "configmaps"},
	{Group: "", Version: "v1", Resource: "serviceaccounts"},
	{Group: "", Version: "v1", Resource: "pods"},
	{Group: "batch", Version: "v1", Resource: "jobs"},
}

func liveSnapshot(t *testing.T, ns string) liveState {
	t.Helper()
	dc := testenv.Dynamic(t)
	out := liveState{}
	for _, gvr := range snapshotKinds {
		l, err := dc.Resource(gvr).Namespace(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for i := range l.Items {
			o := &l.Items[i]
			if o.GetLabels()["owner"] == "helm" { // Helm's records when HELM_DRIVER=configmap
				continue
			}
			out[o.GetKind()+"/"+o.GetName()] = o
		}
	}
	return out
}

// settledSnapshot waits until two reads a moment apart see the same resourceVersions: the
// controllers are done with the namespace.
func settledSnapshot(t *testing.T, ns string) liveState {
	t.Helper()
	var s liveState
	testenv.Eventually(t, 60*time.Second, func() error {
		a := liveSnapshot(t, ns)
		time.Sleep(500 * time.Millisecond)
		b := liveSnapshot(t, ns)
		if d := rvDiff(a, b); d != "" {
			return fmt.Errorf("still changing: %s", d)
		}
		s = b
		return nil
	})
	return s
}

func rvDiff(a, b liveState) string {
	var diffs []string
	for k, o := range a {
		if n, ok := b[k]; !ok {
			diffs = append(diffs, k+" gone")
		} else if n.GetResourceVersion() != o.GetResourceVersion() {
			diffs = append(diffs, k+" rewritten")
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			diffs = append(diffs, k+" appeared")
		}
	}
	sort.Strings(diffs)
	return strings.Join(diffs, ", ")
}

// takenOver are the objects of a release of the ledger chart that an import takes over (the
// hook Job Helm left in place among them).
func takenOver(rel string) []string {
	n := rel + "-ledger"
	return []string{"Deployment/" + n, "Service/" + n, "ConfigMap/" + n, "ServiceAccount/" + n, "Job/" + n + "-migrate"}
}

// checkTakeover asserts that the import changed the objects it took over only by our release
// labels and their managedFields (Helm's managers gone, sherpack's apply entry there), and
// every other object not at all (same resourceVersion, same UID): no pod was restarted, no
// ReplicaSet made, no generation moved.
func checkTakeover(t *testing.T, before, after liveState, rel, ns string) {
	t.Helper()
	ours := map[string]bool{}
	for _, k := range takenOver(rel) {
		ours[k] = true
	}
	for k, b := range before {
		a, ok := after[k]
		if !ok {
			t.Errorf("%s is gone after the import", k)
			continue
		}
		if a.GetUID() != b.GetUID() {
			t.Errorf("%s was recreated (uid %s -> %s)", k, b.GetUID(), a.GetUID())
		}
		if !ours[k] {
			if a.GetResourceVersion() != b.GetResourceVersion() {
				t.Errorf("%s is not the release's, yet it was written to (resourceVersion %s -> %s)", k, b.GetResourceVersion(), a.GetResourceVersion())
			}
			continue
		}
		l := a.GetLabels()
		if l[apply.LabelManagedBy] != "sherpack" || l[apply.LabelReleaseName] != rel || l[apply.LabelReleaseNamespace] != ns {
			t.Errorf("%s: labels %v lack the release's", k, l)
		}
		want := stripped(b)
		wl := want.GetLabels()
		if wl == nil {
			wl = map[string]string{}
		}
		wl[apply.LabelManagedBy], wl[apply.LabelReleaseName], wl[apply.LabelReleaseNamespace] = "sherpack", rel, ns
		want.SetLabels(wl)
		if got := stripped(a); !reflect.DeepEqual(got.Object, want.Object) {
			t.Errorf("%s changed beyond our labels and its managedFields:\nbefore: %s\nafter:  %s", k, mustJSON(want.Object), mustJSON(got.Object))
		}
		var managers []string
		ownApply := false
		for _, e := range a.GetManagedFields() {
			managers = append(managers, e.Manager+"/"+string(e.Operation))
			if strings.HasPrefix(strings.ToLower(e.Manager), "helm") {
				t.Errorf("%s: Helm's field manager %q is still there", k, e.Manager)
			}
			if e.Manager == "sherpack" && e.Operation == metav1.ManagedFieldsOperationApply {
				ownApply = true
			}
		}
		if !ownApply {
			t.Errorf("%s: no sherpack apply entry in managedFields %v", k, managers)
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			t.Errorf("%s appeared with the import", k)
		}
	}
}

// stripped is an object without what a takeover must change: managedFields and resourceVersion.
func stripped(u *unstructured.Unstructured) *unstructured.Unstructured {
	c := u.DeepCopy()
	c.SetManagedFields(nil)
	c.SetResourceVersion("")
	return c
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// podUIDs are the Deployment's pods by name.
func podUIDs(s liveState) map[string]string {
	out := map[string]string{}
	for k, o := range s {
		if strings.HasPrefix(k, "Pod/") && o.GetLabels()["app.kubernetes.io/component"] == "" {
			out[o.GetName()] = string(o.GetUID())
		}
	}
	return out
}

// replicaSets are the pod-template-hash of each ReplicaSet.
func replicaSets(s liveState) map[string]string {
	out := map[string]string{}
	for k, o := range s {
		if strings.HasPrefix(k, "ReplicaSet/") {
			out[o.GetName()] = o.GetLabels()["pod-template-hash"]
		}
	}
	return out
}

// helmRecordJSON reads the release JSON Helm stored under "release" (base64 of gzip).
func helmRecordJSON(t *testing.T, payload []byte) map[string]any {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(string(payload))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	js, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(js, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// helmRecordPayload encodes release JSON as Helm does.
func helmRecordPayload(t *testing.T, m map[string]any) []byte {
	t.Helper()
	js, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(js); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return []byte(base64.StdEncoding.EncodeToString(b.Bytes()))
}

// manifestObjects decodes a manifest into objects by Kind/name, without what sherpack adds to
// the objects it stores (the namespace, its release labels) and the label Helm's templates set
// to Helm, so that Helm's manifest and ours compare.
func manifestObjects(t *testing.T, text string) map[string]map[string]any {
	t.Helper()
	objs, err := manifest.Decode([]byte(text), "manifest")
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	out := map[string]map[string]any{}
	for _, o := range objs {
		c := o.DeepCopy()
		c.SetNamespace("")
		l := c.GetLabels()
		for _, k := range []string{apply.LabelManagedBy, apply.LabelReleaseName, apply.LabelReleaseNamespace} {
			delete(l, k)
		}
		c.SetLabels(l)
		out[c.GetKind()+"/"+c.GetName()] = c.Object
	}
	return out
}

// importReport is the part of import -o json the tests read.
type importReport struct {
	APIVersion      string `json:"apiVersion"`
	Kind            string `json:"kind"`
	DryRun          bool   `json:"dryRun"`
	AlreadyImported bool   `json:"alreadyImported"`
	Revisions       []struct {
		Revision   int    `json:"revision"`
		HelmStatus string `json:"helmStatus"`
		State      string `json:"state"`
		Chart      string `json:"chart"`
		Action     string `json:"action"`
	} `json:"revisions"`
	Objects []struct {
		Object          string   `json:"object"`
		Action          string   `json:"action"`
		Hook            bool     `json:"hook"`
		Labels          []string `json:"labels"`
		ManagersRemoved []string `json:"managersRemoved"`
		InSync          bool     `json:"inSync"`
	} `json:"objects"`
	DeletedHelmRecords []string `json:"deletedHelmRecords"`
}

func parseImport(t *testing.T, out string) importReport {
	t.Helper()
	var rep importReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("import -o json: %v\n%s", err, out)
	}
	return rep
}
