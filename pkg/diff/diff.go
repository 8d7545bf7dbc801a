// Package diff compares releases: what an upgrade would change (a server-side dry run of the
// new objects against the live ones), two stored revisions, and the deployed revision against
// the live cluster (drift: fields the release sets that someone changed by hand).
package diff

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/sherpack/kubectl-sherpack/pkg/manifest"
)

// Change kinds.
const (
	Added     = "added"
	Changed   = "changed"
	Pruned    = "pruned"
	Unchanged = "unchanged"
	Deleted   = "deleted" // drift: the object was deleted by hand
)

// Change is one object's difference.
type Change struct {
	Key    manifest.Key `json:"-"`
	Object string       `json:"object"`
	Type   string       `json:"type"`
	// Diff is a unified diff of the object's YAML (Secret values masked).
	Diff string `json:"diff,omitempty"`
	// Drift lists fields the release set whose live value someone changed.
	Drift []Drift `json:"drift,omitempty"`
}

// Drift is a field changed outside the release.
type Drift struct {
	Path     string `json:"path"`
	Release  string `json:"release"`
	Live     string `json:"live"`
	Managers string `json:"managers,omitempty"`
}

// Report is a whole diff.
type Report struct {
	Changes []Change `json:"changes"`
	// Hooks that would run (diff upgrade).
	Hooks []string `json:"hooks,omitempty"`
}

// HasChanges tells whether anything differs (for --detailed-exitcode).
func (r *Report) HasChanges() bool {
	for _, c := range r.Changes {
		if c.Type != Unchanged || len(c.Drift) > 0 {
			return true
		}
	}
	return false
}

// serverFields are set by the API server or controllers: never part of a diff.
var serverAnnotations = []string{"kubectl.kubernetes.io/last-applied-configuration", "deployment.kubernetes.io/revision"}

// Clean removes the noise: managedFields, resourceVersion, uid, generation, creationTimestamp,
// selfLink, status, and annotations the server sets.
func Clean(u *unstructured.Unstructured) *unstructured.Unstructured {
	if u == nil {
		return nil
	}
	c := u.DeepCopy()
	unstructured.RemoveNestedField(c.Object, "metadata", "managedFields")
	unstructured.RemoveNestedField(c.Object, "metadata", "resourceVersion")
	unstructured.RemoveNestedField(c.Object, "metadata", "uid")
	unstructured.RemoveNestedField(c.Object, "metadata", "generation")
	unstructured.RemoveNestedField(c.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(c.Object, "metadata", "selfLink")
	unstructured.RemoveNestedField(c.Object, "status")
	if ann := c.GetAnnotations(); ann != nil {
		for _, a := range serverAnnotations {
			delete(ann, a)
		}
		if len(ann) == 0 {
			unstructured.RemoveNestedField(c.Object, "metadata", "annotations")
		} else {
			c.SetAnnotations(ann)
		}
	}
	return c
}

// Mask hides Secret values (data and stringData), showing only which keys changed, unless show
// is set: "***" where equal, "*** (before)" / "*** (after)" where they differ.
func Mask(from, to *unstructured.Unstructured, show bool) (*unstructured.Unstructured, *unstructured.Unstructured) {
	isSecret := func(u *unstructured.Unstructured) bool {
		return u != nil && u.GetKind() == "Secret" && u.GroupVersionKind().Group == ""
	}
	if show || (!isSecret(from) && !isSecret(to)) {
		return from, to
	}
	if from != nil {
		from = from.DeepCopy()
	}
	if to != nil {
		to = to.DeepCopy()
	}
	for _, field := range []string{"data", "stringData"} {
		f := secretMap(from, field)
		t := secretMap(to, field)
		for k, fv := range f {
			if tv, ok := t[k]; ok && tv != fv {
				f[k], t[k] = "*** (before)", "*** (after)"
				continue
			} else if ok {
				t[k] = "***"
			}
			f[k] = "***"
		}
		for k := range t {
			if _, ok := f[k]; !ok {
				t[k] = "***"
			}
		}
		if from != nil && f != nil {
			_ = unstructured.SetNestedField(from.Object, toAny(f), field)
		}
		if to != nil && t != nil {
			_ = unstructured.SetNestedField(to.Object, toAny(t), field)
		}
	}
	return from, to
}

func secretMap(u *unstructured.Unstructured, field string) map[string]string {
	if u == nil {
		return nil
	}
	m, found, _ := unstructured.NestedMap(u.Object, field)
	if !found {
		return nil
	}
	out := map[string]string{}
	for k, v := range m {
		out[k] = fmt.Sprint(v)
	}
	return out
}

func toAny(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Unified is a unified diff of two objects' YAML; "" when they are equal.
func Unified(from, to *unstructured.Unstructured, fromName, toName string, context int) (string, error) {
	a, err := yamlOf(from)
	if err != nil {
		return "", err
	}
	b, err := yamlOf(to)
	if err != nil {
		return "", err
	}
	if a == b {
		return "", nil
	}
	return difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: difflib.SplitLines(a), B: difflib.SplitLines(b), FromFile: fromName, ToFile: toName, Context: context,
	})
}

// Text is a unified diff of two texts.
func Text(a, b, fromName, toName string, context int) string {
	out, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: difflib.SplitLines(a), B: difflib.SplitLines(b), FromFile: fromName, ToFile: toName, Context: context,
	})
	return out
}

func yamlOf(u *unstructured.Unstructured) (string, error) {
	if u == nil {
		return "", nil
	}
	b, err := manifest.ToYAML(u)
	return string(b), err
}

// FieldDrift compares the fields the release set (every leaf of applied) with the live object.
func FieldDrift(applied, live *unstructured.Unstructured, managers string) []Drift {
	var out []Drift
	walk(applied.Object, live.Object, "", func(path string, want, got any) {
		// Of the metadata, only labels and annotations are the release's to set.
		if strings.HasPrefix(path, ".metadata.") && !strings.HasPrefix(path, ".metadata.labels") && !strings.HasPrefix(path, ".metadata.annotations") {
			return
		}
		out = append(out, Drift{Path: path, Release: short(want), Live: short(got), Managers: managers})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func walk(want, got any, path string, report func(string, any, any)) {
	switch w := want.(type) {
	case map[string]any:
		g, _ := got.(map[string]any)
		for k, v := range w {
			var gv any
			if g != nil {
				gv = g[k]
			}
			walk(v, gv, path+"."+k, report)
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			report(path, want, got)
			return
		}
		for i := range w {
			walk(w[i], g[i], fmt.Sprintf("%s[%d]", path, i), report)
		}
	default:
		if !equalScalar(want, got) {
			report(path, want, got)
		}
	}
}

func equalScalar(a, b any) bool {
	if fa, ok := num(a); ok {
		if fb, ok := num(b); ok {
			return fa == fb
		}
	}
	return reflect.DeepEqual(a, b)
}

func num(v any) (float64, bool) {
	switch t := v.(type) {
	case int64:
		return float64(t), true
	case int:
		return float64(t), true
	case float64:
		return t, true
	}
	return 0, false
}

func short(v any) string {
	if v == nil {
		return "(unset)"
	}
	s := fmt.Sprint(v)
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}
