package lifecycle

import (
	"context"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/sherpack/kubectl-sherpack/pkg/manifest"
	"github.com/sherpack/kubectl-sherpack/pkg/pack"
)

// crdPolicy is the pack's crds: block (defaults for plain manifests).
func crdPolicy(r *Rendered) *pack.CRDPolicy {
	if r == nil || r.Pack == nil {
		return nil
	}
	return r.Pack.CRDPolicy
}

// packCRDs applies the crds: policy to the CRDs of crds/: not installed with install: false;
// marked kept on uninstall with uninstall.keep (the default); CRDs that exist already are left
// as they are with upgrade.enabled: false or strategy skip. It also sets how long CRDs are
// awaited (waitReady, waitTimeout).
func (c *Client) packCRDs(ctx context.Context, r *Rendered, name, ns string) []*manifest.Object {
	p := crdPolicy(r)
	c.Apply.CRDWait = p.Timeout()
	if !p.AwaitReady() {
		c.Apply.CRDWait = -1
	}
	if !p.InstallCRDs() {
		for _, crd := range r.CRDs {
			c.emit(name, Event{Type: "object", Name: crd.Key().String(), Action: "skipped", Detail: "Pack.yaml crds.install is false"})
		}
		return nil
	}
	if p.KeepOnUninstall() {
		markCRDsKept(r.CRDs)
	}
	crds := c.crdsToApply(ctx, r.CRDs, name, ns)
	if p.UpgradeCRDs() {
		return crds
	}
	var out []*manifest.Object
	for _, crd := range crds {
		if _, err := c.liveCRD(ctx, crd); apierrors.IsNotFound(err) {
			out = append(out, crd)
			continue
		}
		c.emit(name, Event{Type: "object", Name: crd.Key().String(), Action: "skipped", Detail: "exists; Pack.yaml crds.upgrade says not to update it"})
	}
	return out
}

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

func (c *Client) liveCRD(ctx context.Context, crd *manifest.Object) (*unstructured.Unstructured, error) {
	return c.Apply.Dynamic.Resource(crdResource).Get(ctx, crd.GetName(), metav1.GetOptions{})
}

// checkCRDChanges enforces the safe strategy (the default) on every CRD the release applies
// that exists already: a change that stops serving a version, or removes a field that existing
// custom resources set, is refused with the reason. force and skip do not check.
func (c *Client) checkCRDChanges(ctx context.Context, r *Rendered, objects []*manifest.Object) error {
	if crdPolicy(r).Strategy() != pack.CRDStrategySafe {
		return nil
	}
	var problems []string
	for _, o := range objects {
		if !isCRD(o) {
			continue
		}
		live, err := c.liveCRD(ctx, o)
		if err != nil {
			continue // new (or unreadable: the apply will say)
		}
		problems = append(problems, c.unsafeCRDChange(ctx, live, o)...)
	}
	if len(problems) == 0 {
		return nil
	}
	return &InputError{Err: fmt.Errorf("the CRD upgrade strategy is safe (Pack.yaml crds.upgrade.strategy), and these changes would break custom resources that exist:\n  %s\nMigrate those custom resources first, or set crds.upgrade.strategy: force in Pack.yaml to apply the change anyway",
		strings.Join(problems, "\n  "))}
}

// unsafeCRDChange lists what a new CRD removes that is in use: served versions, and fields that
// custom resources (read in that version) set.
func (c *Client) unsafeCRDChange(ctx context.Context, live *unstructured.Unstructured, next *manifest.Object) []string {
	oldV, newV := crdVersions(live.Object), crdVersions(next.Object)
	group, _, _ := unstructured.NestedString(live.Object, "spec", "group")
	plural, _, _ := unstructured.NestedString(live.Object, "spec", "names", "plural")
	var out []string
	names := make([]string, 0, len(oldV))
	for v := range oldV {
		names = append(names, v)
	}
	sort.Strings(names)
	for _, v := range names {
		old := oldV[v]
		if !old.served {
			continue
		}
		nv, ok := newV[v]
		var removed []string
		if ok && nv.served {
			if removed = removedFields(old.schema, nv.schema, ""); len(removed) == 0 {
				continue
			}
		}
		list, err := c.Apply.Dynamic.Resource(schema.GroupVersionResource{Group: group, Version: v, Resource: plural}).List(ctx, metav1.ListOptions{})
		if err != nil {
			continue
		}
		if !ok || !nv.served {
			out = append(out, fmt.Sprintf("CustomResourceDefinition/%s: version %s is served now and would no longer be (%d %s exist)", live.GetName(), v, len(list.Items), plural))
			continue
		}
		for _, field := range removed {
			for _, cr := range list.Items {
				if hasField(cr.Object, strings.Split(strings.TrimPrefix(field, "."), ".")) {
					out = append(out, fmt.Sprintf("CustomResourceDefinition/%s: version %s would remove field %s, which %s/%s/%s sets",
						live.GetName(), v, field, cr.GetKind(), cr.GetNamespace(), cr.GetName()))
					break
				}
			}
		}
	}
	return out
}

type crdVer struct {
	served bool
	schema map[string]any
}

func crdVersions(obj map[string]any) map[string]crdVer {
	out := map[string]crdVer{}
	vs, _, _ := unstructured.NestedSlice(obj, "spec", "versions")
	for _, v := range vs {
		m, _ := v.(map[string]any)
		name, _ := m["name"].(string)
		served, _ := m["served"].(bool)
		sch, _, _ := unstructured.NestedMap(m, "schema", "openAPIV3Schema")
		out[name] = crdVer{served: served, schema: sch}
	}
	return out
}

// removedFields lists the property paths of old that new lacks (a path through arrays names
// the items' fields: .spec.containers.image). Open maps (additionalProperties) are not walked.
func removedFields(old, new map[string]any, path string) []string {
	if old == nil {
		return nil
	}
	if items, ok := old["items"].(map[string]any); ok {
		ni, _ := new["items"].(map[string]any)
		if ni == nil {
			return nil // now untyped or atomic: nothing is refused
		}
		return removedFields(items, ni, path)
	}
	op, _ := old["properties"].(map[string]any)
	np, _ := new["properties"].(map[string]any)
	if np == nil && new["x-kubernetes-preserve-unknown-fields"] == true {
		return nil
	}
	var out []string
	for name, sub := range op {
		p := path + "." + name
		ns, ok := np[name].(map[string]any)
		if !ok {
			out = append(out, p)
			continue
		}
		os, _ := sub.(map[string]any)
		out = append(out, removedFields(os, ns, p)...)
	}
	sort.Strings(out)
	return out
}

// hasField tells whether obj sets the field at path (through lists: any item sets it).
func hasField(obj any, path []string) bool {
	if len(path) == 0 {
		return true
	}
	switch t := obj.(type) {
	case map[string]any:
		v, ok := t[path[0]]
		return ok && hasField(v, path[1:])
	case []any:
		for _, it := range t {
			if hasField(it, path) {
				return true
			}
		}
	}
	return false
}
