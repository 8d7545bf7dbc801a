package e2e

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/pmezard/go-difflib/difflib"
	"go.yaml.in/yaml/v3"

	"github.com/sherpack/kubectl-sherpack/internal/testenv"
	"github.com/sherpack/kubectl-sherpack/pkg/pack"
)

// chartsDir holds the Helm charts of the conformance corpus (see its README.md).
const chartsDir = "../charts"

// packagedDependencies: charts whose dependency is vendored as a .tgz. The archive is made at
// test time with `helm package` from the chart of the same name in chartsDir, so no binary is
// committed.
var packagedDependencies = map[string][]string{
	"platform": {"cache"},
}

// chartCase is one chart rendered with one values file. The values file says more in its
// leading comments: "# flags: ..." (extra flags for both tools, split on spaces) and, for the
// failing sets under errors/, "# error: ..." (each a text both tools must print).
type chartCase struct {
	chart  string // directory name under chartsDir
	values string // path inside the chart directory: ci/x-values.yaml or errors/x-values.yaml
	flags  []string
	errors []string
}

func (c chartCase) name() string {
	return c.chart + "/" + strings.TrimSuffix(filepath.Base(c.values), ".yaml")
}

// chartCases lists, for every chart of the corpus, the value sets of sub (ci or errors).
func chartCases(t *testing.T, sub string) []chartCase {
	t.Helper()
	entries, err := os.ReadDir(chartsDir)
	if err != nil {
		t.Fatal(err)
	}
	var cases []chartCase
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(chartsDir, e.Name(), "Chart.yaml")); err != nil {
			continue
		}
		files, _ := filepath.Glob(filepath.Join(chartsDir, e.Name(), sub, "*.yaml"))
		if len(files) == 0 && sub == "ci" {
			t.Fatalf("chart %s has no value sets in ci/: every chart of the corpus needs at least one", e.Name())
		}
		for _, f := range files {
			c := chartCase{chart: e.Name(), values: filepath.Join(sub, filepath.Base(f))}
			c.flags, c.errors = valuesHeader(t, f)
			cases = append(cases, c)
		}
	}
	if len(cases) == 0 {
		t.Fatalf("no value sets found under %s/*/%s", chartsDir, sub)
	}
	return cases
}

// valuesHeader reads the "# flags:" and "# error:" comment lines at the top of a values file.
func valuesHeader(t *testing.T, path string) (flags, errs []string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "#") {
			break
		}
		line = strings.TrimSpace(strings.TrimPrefix(line, "#"))
		switch {
		case strings.HasPrefix(line, "flags:"):
			flags = append(flags, strings.Fields(strings.TrimPrefix(line, "flags:"))...)
		case strings.HasPrefix(line, "error:"):
			errs = append(errs, strings.TrimSpace(strings.TrimPrefix(line, "error:")))
		}
	}
	return flags, errs
}

// chartWorkspace is where the corpus is prepared for one test: charts copied, .tgz
// dependencies packaged, and Helm's own home directories, all under a temp dir.
type chartWorkspace struct {
	dir        string
	env        []string // for both tools: no cluster, Helm's homes in the temp dir
	prepared   map[string]string
	archives   map[string]string
	helmBinary string
}

func newChartWorkspace(t *testing.T) *chartWorkspace {
	t.Helper()
	helmBin := filepath.Join(testenv.ToolsDir(), "helm")
	if _, err := os.Stat(helmBin); err != nil {
		t.Fatalf("Helm is needed to compare with (make tools builds it into %s): %v", testenv.ToolsDir(), err)
	}
	dir := t.TempDir()
	// An empty kubeconfig: neither tool may reach a cluster (lookup finds nothing), as when a
	// chart is rendered on a laptop or in CI.
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte("apiVersion: v1\nkind: Config\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"KUBECONFIG=" + kubeconfig, "HELM_NAMESPACE=", "HELM_KUBECONTEXT="}
	for _, v := range []string{"HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"} {
		home := filepath.Join(dir, strings.ToLower(v))
		if err := os.MkdirAll(home, 0o755); err != nil {
			t.Fatal(err)
		}
		env = append(env, v+"="+home)
	}
	return &chartWorkspace{dir: dir, env: env, prepared: map[string]string{}, archives: map[string]string{}, helmBinary: helmBin}
}

// chart returns the chart directory, copied, with its packaged dependencies in charts/.
func (w *chartWorkspace) chart(t *testing.T, name string) string {
	t.Helper()
	if p, ok := w.prepared[name]; ok {
		return p
	}
	dst := filepath.Join(w.dir, "charts", name)
	if err := os.CopyFS(dst, os.DirFS(filepath.Join(chartsDir, name))); err != nil {
		t.Fatalf("copy chart %s: %v", name, err)
	}
	for _, dep := range packagedDependencies[name] {
		w.helm(t, "package", filepath.Join(chartsDir, dep), "--destination", filepath.Join(dst, "charts"))
	}
	w.prepared[name] = dst
	return dst
}

// archive returns the chart packaged as a .tgz by `helm package`.
func (w *chartWorkspace) archive(t *testing.T, name string) string {
	t.Helper()
	if p, ok := w.archives[name]; ok {
		return p
	}
	out := filepath.Join(w.dir, "archives")
	w.helm(t, "package", w.chart(t, name), "--destination", out)
	files, _ := filepath.Glob(filepath.Join(out, name+"-*.tgz"))
	if len(files) != 1 {
		t.Fatalf("helm package %s: want one archive in %s, found %v", name, out, files)
	}
	w.archives[name] = files[0]
	return files[0]
}

// helm runs the Helm binary and fails the test unless it exits 0.
func (w *chartWorkspace) helm(t *testing.T, args ...string) result {
	t.Helper()
	r := runCmd(t, w.helmBinary, w.env, args...)
	if r.code != 0 {
		t.Fatalf("helm %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// hasCRDs says whether the chart, or one of its subcharts, ships a crds/ directory.
func hasCRDs(dir string) bool {
	found := false
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() && d.Name() == "crds" {
			found = true
			return filepath.SkipAll
		}
		return nil
	})
	return found
}

// object is one parsed document, with the key it is compared by.
type object struct {
	key     string
	content any
}

// parseObjects decodes every YAML document of a tool's output. Documents that are empty or
// only comments are dropped (Helm drops them too); anything else is kept, objects keyed by
// apiVersion/kind/namespace/name (namespace as written, empty when the template set none).
func parseObjects(out string) ([]object, error) {
	dec := yaml.NewDecoder(strings.NewReader(out))
	var objs []object
	for i := 1; ; i++ {
		var doc any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if doc == nil {
			continue
		}
		doc = pack.Normalize(doc) // string keys everywhere, integers as int64, on both sides alike
		objs = append(objs, object{key: objectKey(doc, i), content: doc})
	}
	return objs, nil
}

func objectKey(doc any, i int) string {
	m, ok := doc.(map[string]any)
	if !ok {
		return fmt.Sprintf("(document %d is not an object: %T)", i, doc)
	}
	str := func(v any) string { s, _ := v.(string); return s }
	meta, _ := m["metadata"].(map[string]any)
	return fmt.Sprintf("%s/%s/%s/%s", str(m["apiVersion"]), str(m["kind"]), str(meta["namespace"]), str(meta["name"]))
}

func toYAML(v any) string {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("(cannot encode: %v)", err)
	}
	return b.String()
}

// compareObjectSets compares two outputs as multisets of objects: the same keys, each with
// deeply equal content. The report names every object on one side only and shows a diff of
// every object whose content differs; empty when the sets are equal.
func compareObjectSets(helmObjs, ours []object) string {
	group := func(objs []object) map[string][]string {
		m := map[string][]string{}
		for _, o := range objs {
			m[o.key] = append(m[o.key], toYAML(o.content))
		}
		for _, v := range m {
			sort.Strings(v)
		}
		return m
	}
	h, o := group(helmObjs), group(ours)
	var keys []string
	for k := range h {
		keys = append(keys, k)
	}
	for k := range o {
		if _, ok := h[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		hs, ss := h[k], o[k]
		switch {
		case len(ss) == 0:
			fmt.Fprintf(&b, "only in helm template: %s\n%s\n", k, indentText(strings.Join(hs, "---\n")))
		case len(hs) == 0:
			fmt.Fprintf(&b, "only in kubectl sherpack template: %s\n%s\n", k, indentText(strings.Join(ss, "---\n")))
		case len(hs) != len(ss):
			fmt.Fprintf(&b, "%s: %d documents in helm template, %d in kubectl sherpack template\n", k, len(hs), len(ss))
		default:
			for i := range hs {
				if hs[i] == ss[i] {
					continue
				}
				d, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
					A: difflib.SplitLines(hs[i]), B: difflib.SplitLines(ss[i]),
					FromFile: "helm template", ToFile: "kubectl sherpack template", Context: 3,
				})
				fmt.Fprintf(&b, "differs: %s\n%s\n", k, indentText(d))
			}
		}
	}
	return b.String()
}

// sameContent is the deep equality the report's text comparison stands for, checked on its own
// so that a difference YAML encoding would hide (none is known) still fails.
func sameContent(a, b []object) bool {
	key := func(objs []object) map[string][]any {
		m := map[string][]any{}
		for _, o := range objs {
			m[o.key] = append(m[o.key], o.content)
		}
		return m
	}
	ka, kb := key(a), key(b)
	if len(ka) != len(kb) {
		return false
	}
	for k, va := range ka {
		vb := kb[k]
		if len(va) != len(vb) {
			return false
		}
		for _, x := range va {
			if !slices.ContainsFunc(vb, func(y any) bool { return reflect.DeepEqual(x, y) }) {
				return false
			}
		}
	}
	return true
}

func indentText(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = "    " + l
	}
	return strings.Join(lines, "\n")
}

func kinds(objs []object) map[string]int {
	m := map[string]int{}
	for _, o := range objs {
		if c, ok := o.content.(map[string]any); ok {
			k, _ := c["kind"].(string)
			m[k]++
		}
	}
	return m
}
