package apply

import (
	"fmt"
	"sort"
	"strings"

	"github.com/sherpack/kubectl-sherpack/pkg/manifest"
)

// kindRank orders kinds inside a wave: what others depend on comes first.
var kindRank = map[string]int{
	"Namespace": 0, "CustomResourceDefinition": 1,
	"ResourceQuota": 2, "LimitRange": 2, "PriorityClass": 2,
	"ServiceAccount": 3, "ClusterRole": 3, "ClusterRoleBinding": 3, "Role": 3, "RoleBinding": 3,
	"PodSecurityPolicy": 3, "NetworkPolicy": 3,
	"ConfigMap": 4, "Secret": 4,
	"StorageClass": 5, "PersistentVolume": 5, "PersistentVolumeClaim": 5,
	"Service": 6, "Endpoints": 6, "EndpointSlice": 6,
	"Pod": 7, "ReplicaSet": 7, "ReplicationController": 7, "Deployment": 7, "StatefulSet": 7, "DaemonSet": 7,
	"Job": 8, "CronJob": 8,
	"Ingress": 9, "IngressClass": 9, "HorizontalPodAutoscaler": 9, "PodDisruptionBudget": 9,
	"APIService": 10, "MutatingWebhookConfiguration": 10, "ValidatingWebhookConfiguration": 10,
}

const (
	rankCustom = 11 // custom resources (kinds of non-core groups we do not know)
	rankOther  = 12
)

// coreGroups are the built-in API groups: an unknown kind there ranks "other", elsewhere "custom".
var coreGroups = map[string]bool{"": true, "apps": true, "batch": true, "networking.k8s.io": true, "policy": true,
	"rbac.authorization.k8s.io": true, "storage.k8s.io": true, "autoscaling": true, "apiextensions.k8s.io": true,
	"admissionregistration.k8s.io": true, "coordination.k8s.io": true, "discovery.k8s.io": true, "scheduling.k8s.io": true,
	"node.k8s.io": true, "certificates.k8s.io": true, "apiregistration.k8s.io": true}

// KindRank is the install rank of a kind (lower first).
func KindRank(group, kind string) int {
	if r, ok := kindRank[kind]; ok && coreGroups[group] {
		return r
	}
	if coreGroups[group] {
		return rankOther
	}
	return rankCustom
}

// Step is a set of objects applied together (in parallel): one kind rank of one wave.
type Step struct {
	Wave    int
	Rank    int
	Objects []*manifest.Object
}

// Plan is the order of an apply: waves ascending, kind ranks ascending inside each.
type Plan struct {
	Steps []Step
}

// Waves lists the distinct waves in order.
func (p *Plan) Waves() []int {
	var out []int
	for _, s := range p.Steps {
		if len(out) == 0 || out[len(out)-1] != s.Wave {
			out = append(out, s.Wave)
		}
	}
	return out
}

// Objects lists every object in plan order.
func (p *Plan) Objects() []*manifest.Object {
	var out []*manifest.Object
	for _, s := range p.Steps {
		out = append(out, s.Objects...)
	}
	return out
}

// BuildPlan orders objects; a duplicate object (same kind, namespace and name) is an error.
func BuildPlan(objs []*manifest.Object) (*Plan, error) {
	type entry struct {
		obj        *manifest.Object
		wave, rank int
	}
	seen := map[manifest.Key]string{}
	var entries []entry
	for _, o := range objs {
		k := o.Key()
		if prev, dup := seen[k]; dup {
			return nil, fmt.Errorf("%s is defined twice (in %s and in %s)", k, prev, o.Source)
		}
		seen[k] = o.Source
		ann, err := manifest.ParseAnnotations(o)
		if err != nil {
			return nil, err
		}
		gvk := o.GroupVersionKind()
		entries = append(entries, entry{obj: o, wave: ann.SyncWave, rank: KindRank(gvk.Group, gvk.Kind)})
	}
	sort.SliceStable(entries, func(i, j int) bool {
		a, b := entries[i], entries[j]
		if a.wave != b.wave {
			return a.wave < b.wave
		}
		if a.rank != b.rank {
			return a.rank < b.rank
		}
		ka, kb := a.obj.Key(), b.obj.Key()
		if ka.Kind != kb.Kind {
			return ka.Kind < kb.Kind
		}
		return ka.Namespace+"/"+ka.Name < kb.Namespace+"/"+kb.Name
	})
	p := &Plan{}
	for _, e := range entries {
		n := len(p.Steps)
		if n == 0 || p.Steps[n-1].Wave != e.wave || p.Steps[n-1].Rank != e.rank {
			p.Steps = append(p.Steps, Step{Wave: e.wave, Rank: e.rank})
			n++
		}
		p.Steps[n-1].Objects = append(p.Steps[n-1].Objects, e.obj)
	}
	return p, nil
}

// String prints the plan: one line per wave with its objects.
func (p *Plan) String() string {
	var b strings.Builder
	for _, w := range p.Waves() {
		fmt.Fprintf(&b, "wave %d:\n", w)
		for _, s := range p.Steps {
			if s.Wave != w {
				continue
			}
			for _, o := range s.Objects {
				fmt.Fprintf(&b, "  %s\n", o.Key())
			}
		}
	}
	return b.String()
}
