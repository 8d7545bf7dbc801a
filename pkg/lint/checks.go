package lint

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/sherpack/kubectl-sherpack/pkg/manifest"

	"github.com/sherpack/kubectl-sherpack/internal/suggest"
)

// knownAnnotations are the sherpack.io/* annotations the plugin reads.
var knownAnnotations = []string{
	manifest.AnnHook, manifest.AnnHookWeight, manifest.AnnHookDeletePolicy, manifest.AnnHookFailurePolicy,
	manifest.AnnHookTimeout, manifest.AnnSyncWave, manifest.AnnResourcePolicy, manifest.AnnSkipWait,
	manifest.AnnHealthCheck, manifest.AnnHealthCheck + "-type", manifest.AnnHealthCheck + "-url",
	manifest.AnnHealthCheck + "-path", manifest.AnnHealthCheck + "-port", manifest.AnnHealthCheck + "-command",
	manifest.AnnHealthCheck + "-timeout", manifest.AnnHealthCheck + "-expected-status",
	"sherpack.io/release-name", "sherpack.io/release-namespace",
}

// checkObjects checks every rendered object: identity, duplicates, annotations, kinds and
// namespaces.
func checkObjects(objs []*manifest.Object, dir string, o Options) []Finding {
	var out []Finding
	where := func(obj *manifest.Object) (string, int) { return sourceFile(obj.Source, dir), obj.Line }
	crds := definedKinds(objs)
	first := map[string]*manifest.Object{}
	for _, obj := range objs {
		file, line := where(obj)
		known, namespaced := o.Kinds.Lookup(obj.GetAPIVersion(), obj.GetKind())
		if c, ok := crds[gk(obj.GetAPIVersion(), obj.GetKind())]; ok {
			known, namespaced = true, c
		}
		key := obj.Key()
		if namespaced && key.Namespace == "" {
			key.Namespace = o.Namespace // where it would be installed
		}
		f := func(sev, check, format string, args ...any) {
			out = append(out, Finding{Severity: sev, File: file, Line: line, Check: check, Message: key.String() + ": " + fmt.Sprintf(format, args...)})
		}
		if !known {
			f(Error, "unknown-kind", "kind %s of %s is not served (the %s) and no CustomResourceDefinition of the pack defines it", obj.GetKind(), obj.GetAPIVersion(), o.Kinds.Source())
		}
		ns := obj.GetNamespace()
		switch {
		case known && !namespaced && ns != "":
			f(Warning, "namespace", "%s is cluster-scoped: metadata.namespace %q is ignored", obj.GetKind(), ns)
		case namespaced && ns != "" && ns != o.Namespace:
			f(Warning, "namespace", "metadata.namespace is %q but the release namespace is %q: the object lands outside the release's namespace", ns, o.Namespace)
		}
		id := key.Group + "/" + key.String()
		if prev, dup := first[id]; dup {
			pf, pl := where(prev)
			f(Error, "duplicate", "defined twice: also at %s:%d (the second would overwrite the first)", pf, pl)
		} else {
			first[id] = obj
		}
		if _, err := manifest.ParseAnnotations(obj); err != nil {
			var ae *manifest.AnnotationError
			if errors.As(err, &ae) {
				f(Error, "annotations", "annotation %s: %s", ae.Annotation, ae.Msg)
			} else {
				f(Error, "annotations", "%v", err)
			}
		}
		for _, k := range sortedAnnotationKeys(obj) {
			if !strings.HasPrefix(k, "sherpack.io/") || contains(knownAnnotations, k) {
				continue
			}
			msg := fmt.Sprintf("unknown annotation %s is ignored", k)
			if best := closest(k, knownAnnotations); best != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", best)
			}
			f(Warning, "annotations", "%s", msg)
		}
	}
	return out
}

// sourceFile turns a rendered object's source (pack-name/templates/x.yaml) into a path under dir.
func sourceFile(source, dir string) string {
	if i := strings.IndexByte(source, '/'); i >= 0 {
		return path.Join(dir, source[i+1:])
	}
	return path.Join(dir, source)
}

func gk(apiVersion, kind string) string {
	group := ""
	if i := strings.LastIndexByte(apiVersion, '/'); i >= 0 {
		group = apiVersion[:i]
	}
	return group + "/" + kind
}

// definedKinds are the kinds the pack's own CRDs define (group/Kind -> namespaced).
func definedKinds(objs []*manifest.Object) map[string]bool {
	out := map[string]bool{}
	for _, obj := range objs {
		if obj.GetKind() != "CustomResourceDefinition" {
			continue
		}
		g, _, _ := unstructured.NestedString(obj.Object, "spec", "group")
		k, _, _ := unstructured.NestedString(obj.Object, "spec", "names", "kind")
		scope, _, _ := unstructured.NestedString(obj.Object, "spec", "scope")
		out[g+"/"+k] = scope != "Cluster"
	}
	return out
}

func sortedAnnotationKeys(obj *manifest.Object) []string {
	var keys []string
	for k := range obj.GetAnnotations() {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func closest(s string, keys []string) string { return suggest.Closest(s, keys, max(2, len(s)/6)) }
