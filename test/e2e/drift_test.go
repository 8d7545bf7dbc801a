package e2e

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/sherpack/kubectl-sherpack/internal/testenv"
)

// What the API server defaults, drops or folds is not drift: a volumeMount's readOnly: false,
// an empty env, a Secret's stringData (stored as data), quantities (1024Mi is stored as 1Gi),
// int-or-strings, defaulted protocols. diff upgrade of the same input says "no changes".
// A field another manager owns alone is not drift either; one of ours taken by another manager
// with another value is, once, naming the manager.
const normalised = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: registry.example.invalid/web:1
        env: []
        envFrom: []
        ports: [{name: http, containerPort: 8080}]
        resources: {limits: {memory: 1024Mi, cpu: 1000m}, requests: {cpu: "0.5"}}
        volumeMounts:
        - {name: tmp, mountPath: /tmp, readOnly: false}
      volumes: [{name: tmp, emptyDir: {}}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: "http"}, {name: metrics, port: 9090, targetPort: 9090}]
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {password: hunter2, user: admin}
`

func TestDriftHasNoFalsePositives(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	ctx := context.Background()
	dir := writeFiles(t, map[string]string{"all.yaml": normalised})
	mustSherpack(t, "install", "norm", "-f", dir, "-n", ns)
	if r := sherpack(t, "diff", "drift", "norm", "-n", ns, "--detailed-exitcode"); r.code != 0 {
		t.Fatalf("untouched release: diff drift exit %d, want 0\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := sherpack(t, "diff", "upgrade", "norm", "-f", dir, "-n", ns, "--detailed-exitcode"); r.code != 0 {
		t.Fatalf("same input: diff upgrade exit %d, want 0\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Another manager adds a field the release does not set: not drift.
	cs := testenv.Clientset(t)
	if _, err := cs.AppsV1().Deployments(ns).Patch(ctx, "web", types.StrategicMergePatchType,
		[]byte(`{"metadata":{"annotations":{"other.example/note":"hi"}},"spec":{"template":{"spec":{"containers":[{"name":"web","env":[{"name":"EXTRA","value":"1"}]}]}}}}`),
		metav1.PatchOptions{FieldManager: "other-tool"}); err != nil {
		t.Fatal(err)
	}
	if r := sherpack(t, "diff", "drift", "norm", "-n", ns, "--detailed-exitcode"); r.code != 0 {
		t.Fatalf("fields only another manager owns are not drift: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// A value of ours changed by another manager: one line, naming it; the Secret value hidden.
	if _, err := cs.CoreV1().Secrets(ns).Patch(ctx, "creds", types.MergePatchType, []byte(`{"stringData":{"password":"letmein"}}`),
		metav1.PatchOptions{FieldManager: "rotator"}); err != nil {
		t.Fatal(err)
	}
	r := sherpack(t, "diff", "drift", "norm", "-n", ns, "--detailed-exitcode")
	if r.code != 2 || strings.Count(r.stdout, "DRIFT ") != 1 || !strings.Contains(r.stdout, "DRIFT  .data.password was changed by hand (rotator)") ||
		strings.Contains(r.stdout, "letmein") || strings.Contains(r.stdout, "hunter2") {
		t.Fatalf("one Secret value changed: want one masked drift line naming the manager, exit 2; got exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
