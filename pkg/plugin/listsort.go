package plugin

import (
	"regexp"
	"sort"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/sherpack/kubectl-sherpack/pkg/releases"
)

// compileFilter is list --filter: a regular expression on release names (nil when not given).
func compileFilter(expr string) (*regexp.Regexp, error) {
	if expr == "" {
		return nil, nil
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, Usagef("--filter %q: not a regular expression: %v", expr, err)
	}
	return re, nil
}

// listFields are what list -l selects on: the release's labels (--labels), then the record's
// own fields, which a label of the same name never hides.
func listFields(m releases.Meta) labels.Set {
	set := labels.Set{}
	for k, v := range m.Labels {
		set[k] = v
	}
	for k, v := range map[string]string{"name": m.Name, "namespace": m.Namespace, "status": string(m.State), "pack": m.Pack, "version": m.PackVersion} {
		set[k] = v
	}
	return set
}

// sortReleases orders list's output: by namespace and name, or by date with -d; -r reverses.
func sortReleases(ms []releases.Meta, byDate, reverse bool) []releases.Meta {
	less := func(a, b releases.Meta) bool {
		if byDate && !a.Updated.Equal(b.Updated) {
			return a.Updated.Before(b.Updated)
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	}
	sort.SliceStable(ms, func(i, j int) bool {
		if reverse {
			return less(ms[j], ms[i])
		}
		return less(ms[i], ms[j])
	})
	return ms
}

// page applies --offset then --max.
func (o *ListOptions) page(ms []releases.Meta) []releases.Meta {
	if o.Offset >= len(ms) {
		return nil
	}
	ms = ms[o.Offset:]
	if o.Max > 0 && len(ms) > o.Max {
		ms = ms[:o.Max]
	}
	return ms
}

func stateNames() []string {
	out := []string{"pending"}
	for _, s := range releases.AllStates {
		out = append(out, string(s))
	}
	return out
}
