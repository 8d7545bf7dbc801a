package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/sherpack/kubectl-sherpack/internal/cluster"
	"github.com/sherpack/kubectl-sherpack/internal/testenv"
)

// The control plane is real: controllers, scheduler and kwok turn a Deployment into ready pods.
func TestClusterDeploymentBecomesReady(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	cs := testenv.Clientset(t)
	ctx := context.Background()
	if _, err := cs.AppsV1().Deployments(ns).Create(ctx, deployment("web", 3, nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 90*time.Second, func() error {
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if d.Status.ReadyReplicas != 3 || d.Status.AvailableReplicas != 3 {
			return fmt.Errorf("deployment web: %d/3 ready, %d available", d.Status.ReadyReplicas, d.Status.AvailableReplicas)
		}
		return nil
	})
}

func TestClusterJobCompletes(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	cs := testenv.Clientset(t)
	ctx := context.Background()
	if _, err := cs.BatchV1().Jobs(ns).Create(ctx, job("ok", nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitJobCondition(t, cs, ns, "ok", batchv1.JobComplete)
}

// A pod labelled with the failure lever ends Failed, so its Job fails (the lever hooks tests use).
func TestClusterLabelledPodFailsItsJob(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	cs := testenv.Clientset(t)
	ctx := context.Background()
	if _, err := cs.BatchV1().Jobs(ns).Create(ctx, job("bad", map[string]string{cluster.LabelFail: "true"}), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitJobCondition(t, cs, ns, "bad", batchv1.JobFailed)
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "job-name=bad"})
	if err != nil || len(pods.Items) == 0 {
		t.Fatalf("pods of job bad: %v (%d)", err, len(pods.Items))
	}
	if p := pods.Items[0]; p.Status.Phase != corev1.PodFailed {
		t.Fatalf("pod %s phase %s, want Failed", p.Name, p.Status.Phase)
	}
}

// A pod labelled never-ready runs but never becomes Ready.
func TestClusterLabelledPodNeverReady(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	cs := testenv.Clientset(t)
	ctx := context.Background()
	d := deployment("stuck", 1, map[string]string{cluster.LabelNeverReady: "true"})
	if _, err := cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 60*time.Second, func() error {
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=stuck"})
		if err != nil {
			return err
		}
		if len(pods.Items) != 1 || pods.Items[0].Status.Phase != corev1.PodRunning {
			return fmt.Errorf("want one Running pod, have %d", len(pods.Items))
		}
		return nil
	})
	time.Sleep(2 * time.Second) // give kwok the chance to (wrongly) make it ready
	got, err := cs.AppsV1().Deployments(ns).Get(ctx, "stuck", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status.ReadyReplicas != 0 {
		t.Fatalf("deployment stuck has %d ready replicas, want 0", got.Status.ReadyReplicas)
	}
}

// RBAC is enforced: a ServiceAccount with a Role for configmaps in its namespace can list them
// there, and is refused secrets and other namespaces.
func TestClusterRBACRefusesUnprivilegedIdentity(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	other := testenv.Namespace(t)
	cs := testenv.Clientset(t)
	ctx := context.Background()
	kc := testenv.ServiceAccountKubeconfig(t, ns, "dev")
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "cm-reader"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "list"}}}}
	if _, err := cs.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "dev-cm-reader"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "cm-reader"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "dev", Namespace: ns}}}
	if _, err := cs.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kc)
	if err != nil {
		t.Fatal(err)
	}
	dev := kubernetes.NewForConfigOrDie(cfg)
	testenv.Eventually(t, 10*time.Second, func() error {
		_, err := dev.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
		return err
	})
	if _, err := dev.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("listing secrets in %s: got %v, want Forbidden", ns, err)
	}
	if _, err := dev.CoreV1().ConfigMaps(other).List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("listing configmaps in %s: got %v, want Forbidden", other, err)
	}
}

// Real kubectl finds the plugin on PATH and runs it.
func TestKubectlDiscoversPlugin(t *testing.T) {
	t.Parallel()
	kubectl := filepath.Join(testenv.ToolsDir(), "kubectl")
	if _, err := os.Stat(kubectl); err != nil {
		t.Fatalf("kubectl not built: %v (make tools)", err)
	}
	pathDir := t.TempDir()
	if err := os.Symlink(testenv.PluginBinary(), filepath.Join(pathDir, "kubectl-sherpack")); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=" + pathDir + ":" + os.Getenv("PATH"), "KUBECONFIG=" + testenv.Kubeconfig()}
	list := runCmd(t, kubectl, env, "plugin", "list")
	if !strings.Contains(list.stdout, filepath.Join(pathDir, "kubectl-sherpack")) {
		t.Fatalf("kubectl plugin list does not list the plugin:\nstdout: %s\nstderr: %s", list.stdout, list.stderr)
	}
	v := runCmd(t, kubectl, env, "sherpack", "version", "-o", "json")
	if v.code != 0 || !strings.Contains(v.stdout, `"clientGoVersion": "v0.37.2"`) {
		t.Fatalf("kubectl sherpack version: code %d\nstdout: %s\nstderr: %s", v.code, v.stdout, v.stderr)
	}
	// The global kubectl flags are the plugin's own.
	bad := runCmd(t, kubectl, env, "sherpack", "version", "--no-such-flag")
	if bad.code != 3 {
		t.Fatalf("unknown flag: exit %d, want 3 (usage); stderr: %s", bad.code, bad.stderr)
	}
}

func deployment(name string, replicas int32, podLabels map[string]string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	for k, v := range podLabels {
		labels[k] = v
	}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "example.local/app:1"}}},
			},
		},
	}
}

func job(name string, podLabels map[string]string) *batchv1.Job {
	zero := int32(0)
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: batchv1.JobSpec{
			BackoffLimit: &zero,
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels},
				Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
					Containers: []corev1.Container{{Name: "c", Image: "example.local/job:1"}}},
			},
		},
	}
}

func waitJobCondition(t *testing.T, cs *kubernetes.Clientset, ns, name string, want batchv1.JobConditionType) {
	t.Helper()
	testenv.Eventually(t, 90*time.Second, func() error {
		j, err := cs.BatchV1().Jobs(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, c := range j.Status.Conditions {
			if c.Type == want && c.Status == corev1.ConditionTrue {
				return nil
			}
		}
		return fmt.Errorf("job %s: conditions %+v, want %s", name, j.Status.Conditions, want)
	})
}
