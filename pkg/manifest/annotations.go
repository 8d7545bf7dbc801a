package manifest

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The annotations sherpack reads on objects. Helm's helm.sh/hook* and helm.sh/resource-policy
// are read as fallbacks so that existing manifests keep working.
const (
	AnnHook              = "sherpack.io/hook"
	AnnHookWeight        = "sherpack.io/hook-weight"
	AnnHookDeletePolicy  = "sherpack.io/hook-delete-policy"
	AnnHookFailurePolicy = "sherpack.io/hook-failure-policy"
	AnnHookTimeout       = "sherpack.io/hook-timeout"
	AnnSyncWave          = "sherpack.io/sync-wave"
	AnnResourcePolicy    = "sherpack.io/resource-policy"
	AnnSkipWait          = "sherpack.io/skip-wait"
	AnnHealthCheck       = "sherpack.io/health-check"

	helmHook           = "helm.sh/hook"
	helmHookWeight     = "helm.sh/hook-weight"
	helmHookDelete     = "helm.sh/hook-delete-policy"
	helmResourcePolicy = "helm.sh/resource-policy"
)

// HookPhases are the phases a hook can run in.
var HookPhases = []string{"pre-install", "post-install", "pre-upgrade", "post-upgrade", "pre-rollback",
	"post-rollback", "pre-delete", "post-delete", "test"}

// Hook delete and failure policies.
var (
	HookDeletePolicies  = []string{"before-hook-creation", "hook-succeeded", "hook-failed"}
	HookFailurePolicies = []string{"fail", "continue", "rollback"}
)

// HealthCheck is a custom health check declared on an object.
type HealthCheck struct {
	Type           string // http or command
	URL            string
	Path           string
	Port           string
	Command        string
	Timeout        time.Duration
	ExpectedStatus int
}

// Annotations are an object's sherpack.io/* settings, parsed and checked.
type Annotations struct {
	HookPhases         []string
	HookWeight         int
	HookDeletePolicies []string
	HookFailurePolicy  string
	HookTimeout        time.Duration
	SyncWave           int
	Keep               bool
	SkipWait           bool
	HealthCheck        *HealthCheck
}

// IsHook tells whether the object is a hook (not part of the applied release).
func (a Annotations) IsHook() bool { return len(a.HookPhases) > 0 }

// AnnotationError names the object and the annotation that is wrong, and what would be right.
type AnnotationError struct {
	Object     string
	Annotation string
	Msg        string
}

func (e *AnnotationError) Error() string {
	return fmt.Sprintf("%s: annotation %s: %s", e.Object, e.Annotation, e.Msg)
}

// ParseAnnotations reads and checks the sherpack.io/* annotations of an object.
func ParseAnnotations(o *Object) (Annotations, error) {
	return parseAnnotations(o.GetAnnotations(), o.Key().String())
}

func parseAnnotations(ann map[string]string, who string) (Annotations, error) {
	a := Annotations{HookFailurePolicy: "fail"}
	get := func(primary, fallback string) (string, string, bool) {
		if v, ok := ann[primary]; ok {
			return strings.TrimSpace(v), primary, true
		}
		if fallback != "" {
			if v, ok := ann[fallback]; ok {
				return strings.TrimSpace(v), fallback, true
			}
		}
		return "", primary, false
	}
	bad := func(name, format string, args ...any) error {
		return &AnnotationError{Object: who, Annotation: name, Msg: fmt.Sprintf(format, args...)}
	}
	if v, name, ok := get(AnnHook, helmHook); ok {
		for _, p := range splitList(v) {
			if p == "test-success" { // Helm's older spelling of test
				p = "test"
			}
			if !contains(HookPhases, p) {
				return a, bad(name, "unknown phase %q; use one or more of %s", p, strings.Join(HookPhases, ", "))
			}
			if !contains(a.HookPhases, p) {
				a.HookPhases = append(a.HookPhases, p)
			}
		}
		if len(a.HookPhases) == 0 {
			return a, bad(name, "empty; use one or more of %s", strings.Join(HookPhases, ", "))
		}
	}
	if v, name, ok := get(AnnHookWeight, helmHookWeight); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return a, bad(name, "%q is not an integer", v)
		}
		a.HookWeight = n
	}
	a.HookDeletePolicies = []string{"before-hook-creation"}
	if v, name, ok := get(AnnHookDeletePolicy, helmHookDelete); ok {
		a.HookDeletePolicies = nil
		for _, p := range splitList(v) {
			if !contains(HookDeletePolicies, p) {
				return a, bad(name, "unknown policy %q; use %s", p, strings.Join(HookDeletePolicies, ", "))
			}
			a.HookDeletePolicies = append(a.HookDeletePolicies, p)
		}
	}
	if v, name, ok := get(AnnHookFailurePolicy, ""); ok {
		if !contains(HookFailurePolicies, v) {
			return a, bad(name, "unknown policy %q; use %s", v, strings.Join(HookFailurePolicies, ", "))
		}
		a.HookFailurePolicy = v
	}
	if v, name, ok := get(AnnHookTimeout, ""); ok {
		d, err := parseDuration(v)
		if err != nil {
			return a, bad(name, "%q is not a duration (like 90s or 5m)", v)
		}
		a.HookTimeout = d
	}
	if v, name, ok := get(AnnSyncWave, "argocd.argoproj.io/sync-wave"); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return a, bad(name, "%q is not an integer", v)
		}
		a.SyncWave = n
	}
	if v, name, ok := get(AnnResourcePolicy, helmResourcePolicy); ok {
		if v != "keep" && v != "" {
			return a, bad(name, "%q: the only policy is keep", v)
		}
		a.Keep = v == "keep"
	}
	if v, name, ok := get(AnnSkipWait, ""); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return a, bad(name, "%q is not true or false", v)
		}
		a.SkipWait = b
	}
	if v, name, ok := get(AnnHealthCheck, ""); ok {
		on, err := strconv.ParseBool(v)
		if err != nil {
			return a, bad(name, "%q is not true or false", v)
		}
		if on {
			hc, err := parseHealthCheck(ann, bad)
			if err != nil {
				return a, err
			}
			a.HealthCheck = hc
		}
	}
	return a, nil
}

func parseHealthCheck(ann map[string]string, bad func(string, string, ...any) error) (*HealthCheck, error) {
	p := AnnHealthCheck + "-"
	hc := &HealthCheck{Type: ann[p+"type"], URL: ann[p+"url"], Path: ann[p+"path"], Port: ann[p+"port"],
		Command: ann[p+"command"], Timeout: 10 * time.Second, ExpectedStatus: 200}
	switch hc.Type {
	case "http":
		if hc.URL == "" && (hc.Path == "" || hc.Port == "") {
			return nil, bad(p+"url", "an http check needs %surl, or %spath and %sport", p, p, p)
		}
	case "command":
		if hc.Command == "" {
			return nil, bad(p+"command", "a command check needs the command to run")
		}
	default:
		return nil, bad(p+"type", "%q: use http or command", hc.Type)
	}
	if v, ok := ann[p+"timeout"]; ok {
		d, err := parseDuration(v)
		if err != nil {
			return nil, bad(p+"timeout", "%q is not a duration", v)
		}
		hc.Timeout = d
	}
	if v, ok := ann[p+"expected-status"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 100 || n > 599 {
			return nil, bad(p+"expected-status", "%q is not an HTTP status code", v)
		}
		hc.ExpectedStatus = n
	}
	return hc, nil
}

func parseDuration(v string) (time.Duration, error) {
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("bad duration %q", v)
	}
	return d, nil
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
