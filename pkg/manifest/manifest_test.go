package manifest

import (
	"strings"
	"testing"
	"time"
)

func TestDecode(t *testing.T) {
	t.Parallel()
	in := `# leading comment
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: a
data:
  text: "--- not a separator"
  count: "3"
---
# only a comment
---
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: b, namespace: prod}
spec:
  replicas: 3
---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Service, metadata: {name: c}}
- {apiVersion: v1, kind: Service, metadata: {name: d}}
`
	objs, err := Decode([]byte(in), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range objs {
		keys = append(keys, o.Key().String())
	}
	if strings.Join(keys, " ") != "ConfigMap/a Deployment/prod/b Service/c Service/d" {
		t.Fatalf("keys: %v", keys)
	}
	if objs[0].Object["data"].(map[string]any)["text"] != "--- not a separator" {
		t.Fatal("a --- inside a string split the document")
	}
	// Integers stay integers (int64), as kstatus and SSA need.
	if r, _ := objs[1].Object["spec"].(map[string]any)["replicas"].(int64); r != 3 {
		t.Fatalf("replicas is %T", objs[1].Object["spec"].(map[string]any)["replicas"])
	}
	if objs[1].Line != 14 || objs[1].Source != "t.yaml" {
		t.Fatalf("line %d source %s", objs[1].Line, objs[1].Source)
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"kind: ConfigMap\nmetadata: {name: a}\n":                "t.yaml:1: ConfigMap object has no apiVersion",
		"apiVersion: v1\nmetadata: {name: a}\n":                 "object has no kind",
		"apiVersion: v1\nkind: ConfigMap\n":                     "has no metadata.name",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [\n": "invalid YAML",
		"- a\n- b\n": "must be a mapping",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Secret\n": "t.yaml:5",
	} {
		_, err := Decode([]byte(in), "t.yaml")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
}

func TestParseAnnotations(t *testing.T) {
	t.Parallel()
	obj := func(ann map[string]string) *Object {
		objs, _ := Decode([]byte("apiVersion: batch/v1\nkind: Job\nmetadata: {name: j, namespace: n}\n"), "x")
		objs[0].SetAnnotations(ann)
		return objs[0]
	}
	a, err := ParseAnnotations(obj(map[string]string{
		AnnHook: "pre-install, pre-upgrade", AnnHookWeight: "-5", AnnHookDeletePolicy: "hook-succeeded,hook-failed",
		AnnHookFailurePolicy: "continue", AnnHookTimeout: "90s", AnnSyncWave: "2", AnnResourcePolicy: "keep", AnnSkipWait: "true",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !a.IsHook() || len(a.HookPhases) != 2 || a.HookWeight != -5 || a.HookDeletePolicies[1] != "hook-failed" ||
		a.HookFailurePolicy != "continue" || a.HookTimeout != 90*time.Second || a.SyncWave != 2 || !a.Keep || !a.SkipWait {
		t.Fatalf("%+v", a)
	}
	d, _ := ParseAnnotations(obj(map[string]string{"helm.sh/hook": "post-install", "helm.sh/resource-policy": "keep"}))
	if d.HookPhases[0] != "post-install" || !d.Keep || d.HookDeletePolicies[0] != "before-hook-creation" || d.HookFailurePolicy != "fail" {
		t.Fatalf("Helm fallbacks and defaults: %+v", d)
	}
	hc, err := ParseAnnotations(obj(map[string]string{AnnHealthCheck: "true", AnnHealthCheck + "-type": "http", AnnHealthCheck + "-url": "http://127.0.0.1:1/healthz", AnnHealthCheck + "-expected-status": "204"}))
	if err != nil || hc.HealthCheck == nil || hc.HealthCheck.ExpectedStatus != 204 {
		t.Fatalf("health check: %+v %v", hc.HealthCheck, err)
	}
	for ann, want := range map[string]string{
		AnnHook:              `unknown phase "pre-instal"`,
		AnnHookWeight:        "not an integer",
		AnnHookDeletePolicy:  "unknown policy",
		AnnHookFailurePolicy: "unknown policy",
		AnnHookTimeout:       "not a duration",
		AnnSyncWave:          "not an integer",
		AnnResourcePolicy:    "the only policy is keep",
		AnnHealthCheck:       "not true or false",
	} {
		_, err := ParseAnnotations(obj(map[string]string{ann: "pre-instal"}))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "Job/n/j") || !strings.Contains(err.Error(), ann) {
			t.Errorf("%s: %v, want it to name the object, the annotation and say %q", ann, err, want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: List\nitems: []\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"}}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		objs, err := Decode(b, "fuzz")
		if err != nil {
			return
		}
		for _, o := range objs {
			if o.GetKind() == "" || o.GetAPIVersion() == "" || (o.GetName() == "" && o.GetGenerateName() == "") {
				t.Fatalf("accepted an invalid object: %v", o.Object)
			}
			if _, err := Encode([]*Object{o}, true); err != nil {
				t.Fatalf("decoded object does not encode: %v", err)
			}
		}
	})
}

func FuzzParseAnnotations(f *testing.F) {
	f.Add("pre-install,test", "5", "hook-succeeded", "rollback", "1m", "-3")
	f.Fuzz(func(t *testing.T, hook, weight, del, fail, timeout, wave string) {
		_, _ = parseAnnotations(map[string]string{AnnHook: hook, AnnHookWeight: weight, AnnHookDeletePolicy: del,
			AnnHookFailurePolicy: fail, AnnHookTimeout: timeout, AnnSyncWave: wave}, "Fuzz/x")
	})
}

func TestDecodeRefusesAliasBombs(t *testing.T) {
	t.Parallel()
	bomb := `apiVersion: v1
kind: ConfigMap
metadata: {name: lol}
a: &a ["x","x","x","x","x","x","x","x","x","x"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]
`
	_, err := Decode([]byte(bomb), "bomb.yaml")
	if err == nil || !strings.Contains(err.Error(), "aliases") {
		t.Fatalf("alias bomb: %v", err)
	}
	// Ordinary anchors still work.
	objs, err := Decode([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok, labels: &l {a: b}, annotations: *l}\n"), "ok.yaml")
	if err != nil || objs[0].GetAnnotations()["a"] != "b" {
		t.Fatalf("anchors: %v", err)
	}
}
