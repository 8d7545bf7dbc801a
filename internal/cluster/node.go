package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"
)

// Labels that the custom kwok stages react to: the tests' levers on pod behaviour.
const (
	// LabelFail makes a pod end in phase Failed with a container that exited 1 (a Job with it fails).
	LabelFail = "sherpack.test/fail"
	// LabelNeverReady makes a pod run but never become Ready.
	LabelNeverReady = "sherpack.test/never-ready"
)

// NodeName is the single node kwok manages.
const NodeName = "kwok-node-0"

// Clientset returns a typed client for the admin identity.
func (c *Cluster) Clientset() (*kubernetes.Clientset, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = 200, 400
	return kubernetes.NewForConfig(cfg)
}

func (c *Cluster) prepareNode(ctx context.Context) error {
	cs, err := c.Clientset()
	if err != nil {
		return err
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        NodeName,
			Labels:      map[string]string{"type": "kwok", "kubernetes.io/hostname": NodeName, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"},
			Annotations: map[string]string{"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
		},
		Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{}, Capacity: corev1.ResourceList{}},
	}
	if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create node %s: %w", NodeName, err)
	}
	return c.poll(ctx, 60*time.Second, "node Ready, untainted, default ServiceAccount present", func() (bool, error) {
		n, err := cs.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		ready := false
		for _, cond := range n.Status.Conditions {
			if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
				ready = true
			}
		}
		if !ready {
			return false, nil
		}
		if len(n.Spec.Taints) > 0 {
			// Without the node lifecycle controller nothing lifts the not-ready taint: do it here.
			patch := []byte(`{"spec":{"taints":null}}`)
			if _, err := cs.CoreV1().Nodes().Patch(ctx, NodeName, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
				return false, nil
			}
			return false, nil
		}
		if _, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{}); err != nil {
			return false, nil
		}
		return true, nil
	})
}

func (c *Cluster) poll(ctx context.Context, limit time.Duration, what string, f func() (bool, error)) error {
	deadline := time.Now().Add(limit)
	for {
		if err := c.Exited(); err != nil {
			return err
		}
		ok, err := f()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s waiting for %s; logs in %s", limit, what, c.LogDir())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// writeStages reads kwok's default stages (copied from its module by hack/build-tools.sh),
// keeps the pods carrying a test label out of the default pod stages, and adds the stages for
// those labels.
func writeStages(srcDir, dst string) error {
	entries, err := os.ReadDir(srcDir)
	if err != nil {
		return fmt.Errorf("kwok stages: %w (run `make tools` to copy them)", err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".yaml") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	var docs []string
	for _, n := range names {
		raw, err := os.ReadFile(filepath.Join(srcDir, n))
		if err != nil {
			return err
		}
		var stage map[string]any
		if err := yaml.Unmarshal(raw, &stage); err != nil {
			return fmt.Errorf("kwok stage %s: %w", n, err)
		}
		name, _ := stage["metadata"].(map[string]any)["name"].(string)
		if name == "pod-ready" || name == "pod-complete" {
			spec := stage["spec"].(map[string]any)
			sel := spec["selector"].(map[string]any)
			exprs, _ := sel["matchExpressions"].([]any)
			for _, l := range []string{LabelFail, LabelNeverReady} {
				exprs = append(exprs, map[string]any{"key": labelKey(l), "operator": "DoesNotExist"})
			}
			sel["matchExpressions"] = exprs
		}
		out, err := yaml.Marshal(stage)
		if err != nil {
			return err
		}
		docs = append(docs, string(out))
	}
	docs = append(docs, failStage, neverReadyStage)
	return os.WriteFile(dst, []byte(strings.Join(docs, "---\n")), 0o600)
}

func labelKey(l string) string { return `.metadata.labels["` + l + `"]` }

var failStage = `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: sherpack-test-pod-fail
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values: ['Pending']
    - key: '` + labelKey(LabelFail) + `'
      operator: 'Exists'
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      - lastTransitionTime: {{ $now | Quote }}
        status: "False"
        type: Ready
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: false
        restartCount: 0
        state:
          terminated:
            exitCode: 1
            finishedAt: {{ $now | Quote }}
            reason: Error
            message: "failed on purpose (label ` + LabelFail + `)"
            startedAt: {{ $now | Quote }}
      {{ end }}
      phase: Failed
      startTime: {{ $now | Quote }}
`

var neverReadyStage = `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: sherpack-test-pod-never-ready
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values: ['Pending']
    - key: '` + labelKey(LabelNeverReady) + `'
      operator: 'Exists'
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      - lastTransitionTime: {{ $now | Quote }}
        status: "False"
        type: Ready
      - lastTransitionTime: {{ $now | Quote }}
        status: "False"
        type: ContainersReady
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: false
        restartCount: 0
        started: true
        state:
          running:
            startedAt: {{ $now | Quote }}
      {{ end }}
      phase: Running
      startTime: {{ $now | Quote }}
`
