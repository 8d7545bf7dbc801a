package diff

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/value"
)

// OwnedDrift is drift without false positives. want is the server's answer to a dry-run
// apply of what the release last applied (so it is defaulted, converted and normalised exactly
// as the live object is: stringData folded into data, quantities and int-or-strings in their
// canonical form); the fields compared are those manager owns in it, that is the fields the
// release sets. A field differs when its live value is not the one the release sets; fields
// only other managers own, and fields the server defaulted, are not looked at. Each drift names
// the managers that own the field in the live object (those who changed it).
func OwnedDrift(want, live *unstructured.Unstructured, manager string, showSecrets bool) ([]Drift, error) {
	owned, err := managedSet(want, manager)
	if err != nil || owned == nil {
		return nil, err
	}
	liveOwners := ownersOf(live)
	secret := live.GetKind() == "Secret" && live.GroupVersionKind().Group == ""
	var out []Drift
	seen := map[string]bool{}
	owned.Leaves().Iterate(func(p fieldpath.Path) {
		if skipPath(p) {
			return
		}
		if secret && len(p) == 2 && p[0].FieldName != nil && *p[0].FieldName == "stringData" {
			// The server folds stringData into data: compare the data key.
			data := "data"
			p = fieldpath.Path{fieldpath.PathElement{FieldName: &data}, p[1]}
		}
		// A list item or map deleted by hand is one drift, not one per field it held.
		for i := 1; i < len(p); i++ {
			if _, ok := resolve(live.Object, p[:i]); !ok {
				if _, ok := resolve(want.Object, p[:i]); ok {
					p = p[:i].Copy()
				}
				break
			}
		}
		ps := p.String()
		if seen[ps] {
			return
		}
		seen[ps] = true
		wv, _ := resolve(want.Object, p)
		lv, _ := resolve(live.Object, p)
		if equalValue(wv, lv) {
			return
		}
		d := Drift{Path: readable(p), Release: short(wv), Live: short(lv), Managers: strings.Join(liveOwners(p, manager), ", ")}
		if secret && !showSecrets && strings.HasPrefix(d.Path, ".data") {
			d.Release, d.Live = "*** (release)", "*** (changed, value hidden)"
			if lv == nil {
				d.Live = "(unset)"
			}
		}
		out = append(out, d)
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// managedSet is the set of fields manager owns through apply in u (nil if none).
func managedSet(u *unstructured.Unstructured, manager string) (*fieldpath.Set, error) {
	for _, mf := range u.GetManagedFields() {
		if mf.Manager != manager || mf.Operation != metav1.ManagedFieldsOperationApply || mf.Subresource != "" || mf.FieldsV1 == nil {
			continue
		}
		s := &fieldpath.Set{}
		if err := s.FromJSON(bytes.NewReader(mf.FieldsV1.GetRawBytes())); err != nil {
			return nil, fmt.Errorf("%s/%s: managed fields of %s: %w", u.GetKind(), u.GetName(), manager, err)
		}
		return s, nil
	}
	return nil, nil
}

// ownersOf returns a function naming the managers (other than self) that own a path in u.
func ownersOf(u *unstructured.Unstructured) func(fieldpath.Path, string) []string {
	type owner struct {
		name string
		set  *fieldpath.Set
	}
	var owners []owner
	for _, mf := range u.GetManagedFields() {
		if mf.FieldsV1 == nil {
			continue
		}
		s := &fieldpath.Set{}
		if s.FromJSON(bytes.NewReader(mf.FieldsV1.GetRawBytes())) != nil {
			continue
		}
		name := mf.Manager
		if mf.Subresource != "" {
			name += " (" + mf.Subresource + ")"
		}
		owners = append(owners, owner{name, s})
	}
	return func(p fieldpath.Path, self string) []string {
		var out []string
		for _, o := range owners {
			if o.name != self && o.set.Has(p) {
				out = append(out, o.name)
			}
		}
		sort.Strings(out)
		return out
	}
}

// skipPath: of the metadata, only labels and annotations are the release's; status never is.
func skipPath(p fieldpath.Path) bool {
	if len(p) == 0 || p[0].FieldName == nil {
		return true
	}
	switch *p[0].FieldName {
	case "status", "apiVersion", "kind":
		return true
	case "metadata":
		if len(p) < 2 || p[1].FieldName == nil {
			return true
		}
		return *p[1].FieldName != "labels" && *p[1].FieldName != "annotations"
	}
	return false
}

// resolve finds the value at p in obj: named fields, list items by key, by value or by index.
func resolve(obj any, p fieldpath.Path) (any, bool) {
	cur := obj
	for _, pe := range p {
		switch {
		case pe.FieldName != nil:
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, false
			}
			if cur, ok = m[*pe.FieldName]; !ok {
				return nil, false
			}
		case pe.Key != nil:
			l, ok := cur.([]any)
			if !ok {
				return nil, false
			}
			found := false
			for _, it := range l {
				m, ok := it.(map[string]any)
				if !ok {
					continue
				}
				match := true
				for _, f := range *pe.Key {
					v, ok := m[f.Name]
					if !ok || !value.Equals(value.NewValueInterface(v), f.Value) {
						match = false
						break
					}
				}
				if match {
					cur, found = it, true
					break
				}
			}
			if !found {
				return nil, false
			}
		case pe.Value != nil:
			l, ok := cur.([]any)
			if !ok {
				return nil, false
			}
			found := false
			for _, it := range l {
				if value.Equals(value.NewValueInterface(it), *pe.Value) {
					cur, found = it, true
					break
				}
			}
			if !found {
				return nil, false
			}
		case pe.Index != nil:
			l, ok := cur.([]any)
			if !ok || *pe.Index >= len(l) {
				return nil, false
			}
			cur = l[*pe.Index]
		default:
			return nil, false
		}
	}
	return cur, true
}

func equalValue(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return value.Equals(value.NewValueInterface(a), value.NewValueInterface(b))
}

// readable prints a path as .spec.template.spec.containers[name=web].env[name=LOG].value.
func readable(p fieldpath.Path) string {
	var b strings.Builder
	for _, pe := range p {
		switch {
		case pe.FieldName != nil:
			b.WriteString("." + *pe.FieldName)
		case pe.Key != nil:
			var kv []string
			for _, f := range *pe.Key {
				kv = append(kv, fmt.Sprintf("%s=%v", f.Name, f.Value.Unstructured()))
			}
			b.WriteString("[" + strings.Join(kv, ",") + "]")
		case pe.Value != nil:
			b.WriteString(fmt.Sprintf("[=%v]", (*pe.Value).Unstructured()))
		case pe.Index != nil:
			b.WriteString(fmt.Sprintf("[%d]", *pe.Index))
		}
	}
	return b.String()
}
