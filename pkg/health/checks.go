package health

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"

	"github.com/sherpack/kubectl-sherpack/pkg/manifest"
)

// Checker runs the custom checks objects declare with sherpack.io/health-check annotations:
// HTTP from this client (a URL), HTTP through the API server's proxy (path and port of a Service
// or Pod), or a command run in a pod of the object.
type Checker struct {
	Typed  kubernetes.Interface
	Config *rest.Config
	// HTTPClient for URL checks (default: a client with the check's timeout).
	HTTPClient *http.Client
	// Interval between attempts (default 1s).
	Interval time.Duration
}

// CheckError is a custom check that did not pass in time.
type CheckError struct {
	Object string
	Check  string
	Last   string
}

func (e *CheckError) Error() string {
	return fmt.Sprintf("%s: health check %s did not pass: %s", e.Object, e.Check, e.Last)
}

// Run retries the object's check until it passes, its timeout passes, or ctx ends.
func (c *Checker) Run(ctx context.Context, obj *manifest.Object, hc *manifest.HealthCheck, observe func(string)) error {
	ctx, cancel := context.WithTimeout(ctx, hc.Timeout)
	defer cancel()
	interval := c.Interval
	if interval <= 0 {
		interval = time.Second
	}
	desc := describe(hc)
	var last string
	for {
		err := c.once(ctx, obj, hc)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil && last != "" {
			// The deadline cut this attempt short: the previous answer says more.
			return &CheckError{Object: obj.Key().String(), Check: desc, Last: last}
		}
		if err.Error() != last && observe != nil {
			observe(err.Error())
		}
		last = err.Error()
		select {
		case <-ctx.Done():
			return &CheckError{Object: obj.Key().String(), Check: desc, Last: last}
		case <-time.After(interval):
		}
	}
}

func describe(hc *manifest.HealthCheck) string {
	switch {
	case hc.Type == "command":
		return fmt.Sprintf("command %q", hc.Command)
	case hc.URL != "":
		return fmt.Sprintf("GET %s (want %d)", hc.URL, hc.ExpectedStatus)
	}
	return fmt.Sprintf("GET :%s%s (want %d)", hc.Port, hc.Path, hc.ExpectedStatus)
}

func (c *Checker) once(ctx context.Context, obj *manifest.Object, hc *manifest.HealthCheck) error {
	switch {
	case hc.Type == "command":
		return c.command(ctx, obj, hc)
	case hc.URL != "":
		return c.url(ctx, hc)
	}
	return c.proxy(ctx, obj, hc)
}

func (c *Checker) url(ctx context.Context, hc *manifest.HealthCheck) error {
	client := c.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: hc.Timeout}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, hc.URL, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	if resp.StatusCode != hc.ExpectedStatus {
		return fmt.Errorf("HTTP %d from %s, want %d: %s", resp.StatusCode, hc.URL, hc.ExpectedStatus, strings.TrimSpace(string(body)))
	}
	return nil
}

// proxy reaches a Service or Pod port through the API server (no direct network path needed).
func (c *Checker) proxy(ctx context.Context, obj *manifest.Object, hc *manifest.HealthCheck) error {
	if c.Typed == nil {
		return fmt.Errorf("no cluster client for the proxy check")
	}
	var res string
	switch obj.GetKind() {
	case "Service":
		res = "services"
	case "Pod":
		res = "pods"
	default:
		return fmt.Errorf("a path/port check runs on a Service or a Pod, not a %s; use -url instead", obj.GetKind())
	}
	path := strings.TrimPrefix(hc.Path, "/")
	result := c.Typed.CoreV1().RESTClient().Get().Namespace(obj.GetNamespace()).Resource(res).
		Name(obj.GetName() + ":" + hc.Port).SubResource("proxy").Suffix(path).Do(ctx)
	var code int
	result.StatusCode(&code)
	if err := result.Error(); err != nil && code == 0 {
		return err
	}
	if code != hc.ExpectedStatus {
		return fmt.Errorf("HTTP %d through the API server proxy to %s:%s/%s, want %d", code, obj.GetName(), hc.Port, path, hc.ExpectedStatus)
	}
	return nil
}

// command runs the check in the first running pod of the object (the Pod itself, or a pod its
// selector matches) and passes when the command exits 0.
func (c *Checker) command(ctx context.Context, obj *manifest.Object, hc *manifest.HealthCheck) error {
	if c.Typed == nil || c.Config == nil {
		return fmt.Errorf("no cluster client for the command check")
	}
	pod, err := c.podOf(ctx, obj)
	if err != nil {
		return err
	}
	req := c.Typed.CoreV1().RESTClient().Post().Resource("pods").Namespace(pod.Namespace).Name(pod.Name).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{Command: []string{"sh", "-c", hc.Command}, Stdout: true, Stderr: true, Container: pod.Spec.Containers[0].Name}, scheme.ParameterCodec)
	exec, err := remotecommand.NewSPDYExecutor(c.Config, http.MethodPost, req.URL())
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if err := exec.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: &out, Stderr: &out}); err != nil {
		return fmt.Errorf("in pod %s: %v: %s", pod.Name, err, strings.TrimSpace(out.String()))
	}
	return nil
}

func (c *Checker) podOf(ctx context.Context, obj *manifest.Object) (*corev1.Pod, error) {
	ns := obj.GetNamespace()
	if obj.GetKind() == "Pod" {
		return c.Typed.CoreV1().Pods(ns).Get(ctx, obj.GetName(), metav1.GetOptions{})
	}
	sel, found, _ := nestedStringMap(obj.Object, "spec", "selector", "matchLabels")
	if !found {
		sel, found, _ = nestedStringMap(obj.Object, "spec", "selector")
	}
	if !found || len(sel) == 0 {
		return nil, fmt.Errorf("%s has no pod selector to find a pod for the command", obj.Key())
	}
	pods, err := c.Typed.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: labels.Set(sel).String()})
	if err != nil {
		return nil, err
	}
	for i := range pods.Items {
		if pods.Items[i].Status.Phase == corev1.PodRunning {
			return &pods.Items[i], nil
		}
	}
	return nil, fmt.Errorf("no running pod of %s yet", obj.Key())
}

func nestedStringMap(obj map[string]any, path ...string) (map[string]string, bool, error) {
	cur := any(obj)
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false, nil
		}
		cur, ok = m[p]
		if !ok {
			return nil, false, nil
		}
	}
	m, ok := cur.(map[string]any)
	if !ok {
		return nil, false, nil
	}
	out := map[string]string{}
	for k, v := range m {
		s, ok := v.(string)
		if !ok {
			return nil, false, nil
		}
		out[k] = s
	}
	return out, true, nil
}
