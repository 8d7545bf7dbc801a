package lifecycle

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/sherpack/kubectl-sherpack/pkg/apply"
	"github.com/sherpack/kubectl-sherpack/pkg/manifest"
	"github.com/sherpack/kubectl-sherpack/pkg/render"
)

// AnnCreatedBy marks a namespace that sherpack created for a release (--create-namespace, or
// the release's own Namespace object created ahead of the release lock that lives in it).
const AnnCreatedBy = "sherpack.io/created-by"

// prepareNamespace makes sure the release namespace exists before the lock and the records are
// written into it. A missing namespace is created, labelled as the release's own, when
// --create-namespace is given or when the release itself holds a Namespace object of that name;
// otherwise the install is refused with what to do. Without the right to read namespaces, it
// assumes the namespace is there.
func (c *Client) prepareNamespace(ctx context.Context, name, ns string, create bool, rf RenderFunc) error {
	if c.Typed == nil {
		return nil
	}
	_, err := c.Typed.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err == nil || !apierrors.IsNotFound(err) {
		return nil // there, or not ours to read: the operation will say if it cannot write there
	}
	how := "--create-namespace"
	if !create {
		inRelease, err := releaseHoldsNamespace(rf, name, ns)
		if err != nil {
			return err
		}
		if !inRelease {
			return &InputError{Err: fmt.Errorf("namespace %s does not exist: create it, or add --create-namespace", ns)}
		}
		how = "the release's Namespace object"
	}
	obj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns,
		Labels:      map[string]string{apply.LabelManagedBy: apply.ManagedByValue, apply.LabelReleaseName: name, apply.LabelReleaseNamespace: ns},
		Annotations: map[string]string{AnnCreatedBy: how}}}
	_, err = c.Typed.CoreV1().Namespaces().Create(ctx, obj, metav1.CreateOptions{FieldManager: apply.FieldManager})
	if err != nil && !apierrors.IsAlreadyExists(err) && !apierrors.IsForbidden(err) {
		return fmt.Errorf("create namespace %s: %w", ns, err)
	}
	c.emit(name, Event{Type: "object", Name: "Namespace/" + ns, Action: "created", Detail: "created by " + how})
	return nil
}

// releaseHoldsNamespace renders the release as an install would and tells whether it holds a
// Namespace object named ns.
func releaseHoldsNamespace(rf RenderFunc, name, ns string) (bool, error) {
	if rf == nil {
		return false, nil
	}
	r, err := rf(render.ReleaseInfo{Name: name, Namespace: ns, Revision: 1, IsInstall: true}, nil)
	if err != nil {
		return false, err
	}
	for _, o := range r.Objects {
		if isNamespace(o) && o.GetName() == ns {
			return true, nil
		}
	}
	return false, nil
}

func isNamespace(o *manifest.Object) bool {
	return o.GetKind() == "Namespace" && o.GroupVersionKind().Group == ""
}

// splitNamespaces separates the Namespace objects of a release from the rest: they are deleted
// last, and only when nothing but this release's objects is left in them.
func splitNamespaces(objs []*manifest.Object) (namespaces, rest []*manifest.Object) {
	for _, o := range objs {
		if isNamespace(o) {
			namespaces = append(namespaces, o)
		} else {
			rest = append(rest, o)
		}
	}
	return namespaces, rest
}

// nsDeletion is what deleteNamespaces needs to know of the release.
type nsDeletion struct {
	name, ns string
	objects  []*manifest.Object // the release's objects (their Services' Endpoints are theirs too)
	// recordsStay: the release records stay in its namespace (--keep-history, or an upgrade).
	recordsStay bool
	action      string // deleted or pruned
	dryRun      bool
}

// deleteNamespaces deletes the release's Namespace objects that hold nothing but this
// release's objects and what Kubernetes puts in every namespace; the others are kept, with
// the reason. A namespace created by --create-namespace that is not part of the release is
// kept and reported.
func (c *Client) deleteNamespaces(ctx context.Context, nsObjs []*manifest.Object, o nsDeletion) []apply.DeleteResult {
	var out []apply.DeleteResult
	inRelease := map[string]bool{}
	for _, n := range nsObjs {
		inRelease[n.GetName()] = true
	}
	if !inRelease[o.ns] && c.Typed != nil && o.action == "deleted" {
		if live, err := c.Typed.CoreV1().Namespaces().Get(ctx, o.ns, metav1.GetOptions{}); err == nil &&
			live.Labels[apply.LabelReleaseName] == o.name && live.Annotations[AnnCreatedBy] != "" {
			out = append(out, apply.DeleteResult{Key: nsKey(o.ns), Action: "kept",
				Reason: "created for this release by " + live.Annotations[AnnCreatedBy] + ", but not part of its manifests"})
		}
	}
	for _, n := range nsObjs {
		k := nsKey(n.GetName())
		if n.GetName() == o.ns && o.recordsStay {
			out = append(out, apply.DeleteResult{Key: k, Action: "kept", Reason: "it holds the release's records"})
			continue
		}
		if a, _ := manifest.ParseAnnotations(n); a.Keep {
			out = append(out, apply.DeleteResult{Key: k, Action: "kept", Reason: "resource-policy keep"})
			continue
		}
		foreign, err := c.foreignObjects(ctx, n.GetName(), o)
		if err != nil {
			out = append(out, apply.DeleteResult{Key: k, Action: "kept", Reason: "could not check that it is empty: " + err.Error()})
			continue
		}
		if len(foreign) > 0 {
			sort.Strings(foreign)
			ex := foreign
			if len(ex) > 3 {
				ex = ex[:3]
			}
			out = append(out, apply.DeleteResult{Key: k, Action: "kept",
				Reason: fmt.Sprintf("it holds %d objects not of this release (%s)", len(foreign), strings.Join(ex, ", "))})
			continue
		}
		res, err := c.Apply.Delete(ctx, []*manifest.Object{n}, apply.DeleteOptions{ReleaseName: o.name, ReleaseNamespace: o.ns, Action: o.action, DryRun: o.dryRun,
			Observe: func(e apply.Event) { c.emit(o.name, Event{Type: "object", Name: e.Key.String(), Action: e.Action}) }})
		if err != nil {
			out = append(out, apply.DeleteResult{Key: k, Action: "kept", Reason: err.Error()})
			continue
		}
		out = append(out, res...)
	}
	return out
}

func nsKey(name string) manifest.Key { return manifest.Key{Kind: "Namespace", Name: name} }

// foreignObjects lists the objects of a namespace that are not this release's: everything
// except objects labelled as this release's, objects owned by another object (pods of its
// ReplicaSets, EndpointSlices of its Services: they go with their owner), the release's
// records and lock, Endpoints and events, and what Kubernetes creates in every
// namespace (the default ServiceAccount, kube-root-ca.crt).
func (c *Client) foreignObjects(ctx context.Context, namespace string, o nsDeletion) ([]string, error) {
	lists, err := c.Apply.Discovery.ServerPreferredNamespacedResources()
	if err != nil && len(lists) == 0 {
		return nil, err
	}
	type res struct {
		gvr  schema.GroupVersionResource
		kind string
	}
	var all []res
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range l.APIResources {
			if strings.Contains(r.Name, "/") || !hasVerb(r.Verbs, "list") || skipGroupResource(gv.Group, r.Name) {
				continue
			}
			all = append(all, res{gvr: gv.WithResource(r.Name), kind: r.Kind})
		}
	}
	var mu sync.Mutex
	var found []string
	var errs []error
	parallel(len(all), 8, func(i int) {
		r := all[i]
		list, err := c.Apply.Metadata.Resource(r.gvr).Namespace(namespace).List(ctx, metav1.ListOptions{})
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			if !apierrors.IsNotFound(err) && !apierrors.IsMethodNotSupported(err) && !apierrors.IsForbidden(err) {
				errs = append(errs, fmt.Errorf("list %s: %w", r.gvr.Resource, err))
			}
			return
		}
		for _, it := range list.Items {
			l := it.GetLabels()
			switch {
			case l[apply.LabelReleaseName] == o.name && l[apply.LabelReleaseNamespace] == o.ns:
			case len(it.GetOwnerReferences()) > 0:
			case l["owner"] == "sherpack" && l["name"] == o.name:
			case r.kind == "Lease" && strings.HasPrefix(it.GetName(), "sh.sherpack.lock."):
			case r.kind == "ServiceAccount" && it.GetName() == "default":
			case r.kind == "ConfigMap" && it.GetName() == "kube-root-ca.crt":
			case it.GetDeletionTimestamp() != nil:
			default:
				found = append(found, r.kind+"/"+it.GetName())
			}
		}
	})
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return found, nil
}

func hasVerb(verbs []string, v string) bool {
	for _, x := range verbs {
		if x == v {
			return true
		}
	}
	return false
}

// skipGroupResource: events are history, not content; Endpoints are derived from Services
// (and listing them draws a deprecation warning since v1.33).
func skipGroupResource(group, resource string) bool {
	return (resource == "events" && (group == "" || group == "events.k8s.io")) || (resource == "endpoints" && group == "")
}
