package apply

import (
	"strings"
	"testing"

	"github.com/sherpack/kubectl-sherpack/pkg/manifest"
)

func objs(t *testing.T, y string) []*manifest.Object {
	t.Helper()
	o, err := manifest.Decode([]byte(y), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestBuildPlanOrdersWavesThenKinds(t *testing.T) {
	t.Parallel()
	p, err := BuildPlan(objs(t, `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: ing}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
---
apiVersion: v1
kind: Namespace
metadata: {name: ns}
---
apiVersion: v1
kind: Service
metadata: {name: db, annotations: {sherpack.io/sync-wave: "-1"}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: late, annotations: {sherpack.io/sync-wave: "2"}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: r}
`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range p.Objects() {
		got = append(got, o.GetKind())
	}
	want := "Service Namespace CustomResourceDefinition Role ConfigMap Deployment Ingress Widget Job"
	if strings.Join(got, " ") != want {
		t.Fatalf("order:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	if w := p.Waves(); len(w) != 3 || w[0] != -1 || w[2] != 2 {
		t.Fatalf("waves %v", w)
	}
	// Objects of one kind in one wave form one step (applied in parallel).
	p2, _ := BuildPlan(objs(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: b}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"))
	if len(p2.Steps) != 1 || len(p2.Steps[0].Objects) != 3 {
		t.Fatalf("ConfigMaps and Secrets share a rank: %d steps", len(p2.Steps))
	}
}

func TestBuildPlanRefusesDuplicatesAndBadWaves(t *testing.T) {
	t.Parallel()
	_, err := BuildPlan(objs(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"))
	if err == nil || !strings.Contains(err.Error(), "ConfigMap/a is defined twice") {
		t.Fatalf("duplicate: %v", err)
	}
	_, err = BuildPlan(objs(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, annotations: {sherpack.io/sync-wave: first}}\n"))
	if err == nil || !strings.Contains(err.Error(), "sherpack.io/sync-wave") {
		t.Fatalf("bad wave: %v", err)
	}
}
