package helmimport

import (
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/sherpack/kubectl-sherpack/pkg/manifest"
)

func obj(t *testing.T, y string) *unstructured.Unstructured {
	t.Helper()
	objs, err := manifest.Decode([]byte(y), "test")
	if err != nil || len(objs) != 1 {
		t.Fatalf("%v %d", err, len(objs))
	}
	return objs[0].Unstructured
}

func TestRestrictObject(t *testing.T) {
	// What the API server holds: defaults, a replica count someone scaled, a container and an
	// env var added by others, status.
	live := obj(t, `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: prod
  uid: 123
  resourceVersion: "42"
  generation: 3
  creationTimestamp: "2026-11-30T10:00:00Z"
  labels: {app: web, app.kubernetes.io/managed-by: Helm, extra: other-tool}
  annotations: {deployment.kubernetes.io/revision: "2", meta.helm.sh/release-name: web}
  managedFields: [{manager: helm, operation: Apply}]
spec:
  replicas: 5
  progressDeadlineSeconds: 600
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      dnsPolicy: ClusterFirst
      containers:
      - name: web
        image: nginx:1.28
        imagePullPolicy: IfNotPresent
        terminationMessagePath: /dev/termination-log
        ports: [{containerPort: 8080, protocol: TCP, name: http}]
        env: [{name: A, value: "1"}, {name: INJECTED, value: "x"}]
      - name: sidecar
        image: proxy:1
status: {replicas: 5}
`)
	want := obj(t, `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: prod
  labels: {app: web, app.kubernetes.io/managed-by: sherpack}
  annotations: {}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.28
        ports: [{containerPort: 8080, name: http}]
        env: [{name: A, value: "1"}]
      stringThing: null
`)
	got := restrictObject(live, want)
	exp := obj(t, `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: prod
  labels: {app: web, app.kubernetes.io/managed-by: Helm}
  annotations: {}
spec:
  replicas: 5
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.28
        ports: [{containerPort: 8080, name: http}]
        env: [{name: A, value: "1"}]
`)
	if !reflect.DeepEqual(normalized(got.Object), normalized(exp.Object)) {
		t.Fatalf("restricted:\n%s\nwant:\n%s", mustYAML(t, got), mustYAML(t, exp))
	}
	if inSync(got, want) {
		t.Fatal("a Deployment scaled by hand is not in sync with the manifest")
	}
}

func mustYAML(t *testing.T, u *unstructured.Unstructured) string {
	t.Helper()
	b, err := manifest.ToYAML(u)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRestrictListKeepsLiveOrder(t *testing.T) {
	live := []any{map[string]any{"name": "b", "v": int64(2)}, map[string]any{"name": "x"}, map[string]any{"name": "a", "v": int64(1), "d": "default"}}
	want := []any{map[string]any{"name": "a", "v": int64(1)}, map[string]any{"name": "b", "v": int64(2)}}
	got := restrictList(live, want)
	exp := []any{map[string]any{"name": "b", "v": int64(2)}, map[string]any{"name": "a", "v": int64(1)}}
	if !reflect.DeepEqual(got, exp) {
		t.Fatalf("%v, want %v", got, exp)
	}
	// Scalars: kept as live has them when the lists are as long; else those the manifest has.
	if got := restrictList([]any{"x", "y"}, []any{"x", "z"}); !reflect.DeepEqual(got, []any{"x", "y"}) {
		t.Fatalf("%v", got)
	}
	if got := restrictList([]any{"a", "b", "c"}, []any{"c", "a"}); !reflect.DeepEqual(got, []any{"a", "c"}) {
		t.Fatalf("%v", got)
	}
}

func TestInSync(t *testing.T) {
	want := obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: n, labels: {a: b}}\ndata: {k: v}\n")
	live := obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: n, uid: u, labels: {a: b, z: y}}\ndata: {k: v}\n")
	if !inSync(restrictObject(live, want), want) {
		t.Fatal("same values: in sync")
	}
	live.Object["data"] = map[string]any{"k": "changed"}
	if inSync(restrictObject(live, want), want) {
		t.Fatal("changed data: not in sync")
	}
}

func TestChangedBeyondLabels(t *testing.T) {
	live := obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, resourceVersion: '1', labels: {a: b}}\ndata: {k: v}\n")
	ours := map[string]string{"app.kubernetes.io/managed-by": "sherpack", "sherpack.io/release-name": "r", "sherpack.io/release-namespace": "n"}
	res := live.DeepCopy()
	res.SetLabels(map[string]string{"a": "b", "app.kubernetes.io/managed-by": "sherpack", "sherpack.io/release-name": "r", "sherpack.io/release-namespace": "n"})
	res.SetResourceVersion("2")
	if d := changedBeyondLabels(live, res, ours); len(d) != 0 {
		t.Fatalf("only labels and the resourceVersion changed, got %v", d)
	}
	res.Object["data"] = map[string]any{"k": "v2", "new": "x"}
	if d := changedBeyondLabels(live, res, ours); strings.Join(d, " ") != ".data.k .data.new" {
		t.Fatalf("diffs %v", d)
	}
}

func TestLabelChanges(t *testing.T) {
	got := labelChanges(map[string]string{"app.kubernetes.io/managed-by": "Helm", "sherpack.io/release-name": "r"},
		map[string]string{"app.kubernetes.io/managed-by": "sherpack", "sherpack.io/release-name": "r", "sherpack.io/release-namespace": "n"})
	if strings.Join(got, "; ") != "app.kubernetes.io/managed-by=sherpack (was Helm); sherpack.io/release-namespace=n" {
		t.Fatalf("%v", got)
	}
}

func TestHelmManagers(t *testing.T) {
	tk := &Takeover{Managers: []string{"Go-http-client"}}
	for m, want := range map[string]bool{"helm": true, "helm4": true, "Helm-Controller": true, "Go-http-client": true, "sherpack": false, "kubectl": false, "kube-controller-manager": false} {
		if tk.isHelm(m) != want {
			t.Errorf("%s: %v", m, !want)
		}
	}
	if q := quoted(`conflict with "helm" using apps/v1`); q != "helm" {
		t.Fatalf("%q", q)
	}
}
