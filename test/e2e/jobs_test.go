package e2e

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sherpack/kubectl-sherpack/internal/testenv"
)

func jobRelease(failing bool) string {
	labels := "{app: migrate}"
	if failing {
		labels = "{app: migrate, sherpack.test/fail: \"true\"}"
	}
	return `apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec:
  backoffLimit: 0
  template:
    metadata: {labels: ` + labels + `}
    spec:
      restartPolicy: Never
      containers: [{name: m, image: registry.example.invalid/migrate:1}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: nightly, image: registry.example.invalid/nightly:1}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: after-migration, annotations: {sherpack.io/sync-wave: "1"}}
data: {ready: "yes"}
`
}

// A Job that is not a hook gates the next wave and the install's success: ready when Complete,
// failed when Failed with the failed pod's reason. A CronJob is ready when created.
// --wait-for-jobs=false counts a started Job as ready, as before.
func TestJobsAwaitedToCompletion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cs := testenv.Clientset(t)

	ns := testenv.Namespace(t)
	r := mustSherpack(t, "install", "ok", "-f", writeFiles(t, map[string]string{"j.yaml": jobRelease(false)}), "-n", ns, "--progress=plain")
	job, err := cs.BatchV1().Jobs(ns).Get(ctx, "migrate", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if job.Status.Succeeded != 1 || job.Status.CompletionTime == nil {
		t.Fatalf("install must wait for the Job to complete: %+v\n%s", job.Status, r.stderr)
	}
	if !strings.Contains(r.stderr, "Job completed") || !strings.Contains(r.stderr, "CronJob created") {
		t.Fatalf("progress must say the Job completed and the CronJob was created:\n%s", r.stderr)
	}

	ns = testenv.Namespace(t)
	f := expectExit(t, 1, "Job failed: BackoffLimitExceeded", "install", "bad", "-f", writeFiles(t, map[string]string{"j.yaml": jobRelease(true)}), "-n", ns)
	if !strings.Contains(f.stderr, "container m terminated") || !strings.Contains(f.stderr, "exit code 1") {
		t.Fatalf("a failed Job must be reported with its failed pod's reason:\n%s", f.stderr)
	}
	if _, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "after-migration", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the wave after a failed Job must not be applied: %v", err)
	}

	ns = testenv.Namespace(t)
	mustSherpack(t, "install", "started", "-f", writeFiles(t, map[string]string{"j.yaml": jobRelease(true)}), "-n", ns, "--wait-for-jobs=false")
	if _, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "after-migration", metav1.GetOptions{}); err != nil {
		t.Fatalf("--wait-for-jobs=false: the next wave follows a started Job: %v", err)
	}
}
