package e2e

import (
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sherpack/kubectl-sherpack/internal/testenv"
)

// The release and namespace every chart of the corpus is rendered as. The release name is
// not the name of any chart, so the charts' fullname helpers prefix it.
const (
	corpusRelease   = "shop"
	corpusNamespace = "storefront"
)

// `kubectl sherpack template` of a Helm chart prints the same objects as `helm template` (the
// Helm 4.3.1 binary), for every chart of test/charts and every values file of its ci/.
//
// What is compared, and why that way:
//   - Objects, parsed from both outputs with a YAML decoder, as multisets keyed by
//     apiVersion/kind/namespace/name, each with deeply equal content. Order, comments (the
//     "# Source:" lines), quoting and indentation are not compared: Helm sorts by kind, and
//     neither order nor layout changes what is applied.
//   - Hooks: `helm template` prints them (tests too) after the manifest, as our template does;
//     both sides are compared with their hooks, annotations included.
//   - CRDs of crds/ (the chart's and its subcharts'): printed by both only with --include-crds,
//     which every run passes; a chart that has a crds/ directory is also rendered without it,
//     where ours must print what Helm does (none of them).
//   - NOTES.txt: neither template prints it (Helm renders it, so a failing NOTES fails both);
//     TestChartNotesMatchHelm compares the text.
//
// Both tools get an empty kubeconfig: rendering needs no cluster, lookup finds nothing, and
// the capabilities are each tool's offline defaults unless the values file's "# flags:" set
// --kube-version or --api-versions. Every chart is also rendered from the .tgz `helm package`
// makes of it. (testenv.Main gives the package a control plane; of these tests only
// TestChartNotesMatchHelm uses it.)
func TestChartTemplateMatchesHelm(t *testing.T) {
	w := newChartWorkspace(t)
	type run struct {
		name, chartPath string
		c               chartCase
		dir             string
	}
	var runs []run
	firstOf := map[string]bool{}
	for _, c := range chartCases(t, "ci") {
		dir := w.chart(t, c.chart)
		runs = append(runs, run{c.name(), dir, c, dir})
		if !firstOf[c.chart] {
			firstOf[c.chart] = true
			runs = append(runs, run{c.name() + ".tgz", w.archive(t, c.chart), c, dir})
		}
	}
	// A chart with crds/ (its own or a subchart's) must show them in at least one value set:
	// Helm printing more CRDs with --include-crds than without. Checked once every run of the
	// chart ran (a -run pattern may select only some).
	var mu sync.Mutex
	crdsShown, ran, total := map[string]bool{}, map[string]int{}, map[string]int{}
	for _, r := range runs {
		total[r.c.chart]++
	}
	t.Cleanup(func() {
		for _, c := range slices.Sorted(maps.Keys(total)) {
			if ran[c] == total[c] && hasCRDs(w.chart(t, c)) && !crdsShown[c] {
				t.Errorf("%s ships crds/ but no value set of it made helm template --include-crds print them", c)
			}
		}
	})
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			with := compareTemplate(t, w, r.chartPath, r.dir, r.c, "--include-crds")
			without := 0
			if hasCRDs(r.dir) {
				without = compareTemplate(t, w, r.chartPath, r.dir, r.c)
			}
			mu.Lock()
			defer mu.Unlock()
			ran[r.c.chart]++
			crdsShown[r.c.chart] = crdsShown[r.c.chart] || with > without
		})
	}
}

// compareTemplate renders one case with both tools and reports every difference; it returns
// how many CustomResourceDefinitions Helm printed.
func compareTemplate(t *testing.T, w *chartWorkspace, chartPath, dir string, c chartCase, extra ...string) int {
	t.Helper()
	args := []string{"template", corpusRelease, chartPath, "-n", corpusNamespace, "--values", filepath.Join(dir, c.values)}
	args = append(append(args, c.flags...), extra...)
	cmdline := strings.Join(args, " ")
	h := runCmd(t, w.helmBinary, w.env, args...)
	if h.code != 0 {
		t.Fatalf("the corpus is not valid Helm: helm %s: exit %d\n%s", cmdline, h.code, h.stderr)
	}
	helmObjs, err := parseObjects(h.stdout)
	if err != nil {
		t.Fatalf("helm %s: output is not YAML: %v\n%s", cmdline, err, h.stdout)
	}
	if len(helmObjs) == 0 {
		t.Fatalf("helm %s printed no object: the value set proves nothing", cmdline)
	}
	o := runCmd(t, testenv.PluginBinary(), w.env, args...)
	if o.code != 0 {
		t.Errorf("kubectl sherpack %s: exit %d, helm renders it\nstderr: %s", cmdline, o.code, o.stderr)
		return kinds(helmObjs)["CustomResourceDefinition"]
	}
	ours, err := parseObjects(o.stdout)
	if err != nil {
		t.Errorf("kubectl sherpack %s: output is not YAML: %v\n%s", cmdline, err, o.stdout)
		return kinds(helmObjs)["CustomResourceDefinition"]
	}
	if report := compareObjectSets(helmObjs, ours); report != "" || !sameContent(helmObjs, ours) {
		t.Errorf("%s: the objects differ from helm template's (%d objects in helm's output, %d in ours)\n%s",
			cmdline, len(helmObjs), len(ours), report)
	}
	return kinds(helmObjs)["CustomResourceDefinition"]
}

// Value sets that make `helm template` fail (a `required` value missing, a `fail` in a value
// check, a values.schema.json violation, a kubeVersion the chart refuses) make ours fail too:
// exit code 3 (bad input), with what Helm's message names (the template file, the chart's own
// message, the failing property) in ours. Each errors/*.yaml lists those texts in "# error:"
// lines, checked against Helm's message first so that the expectation itself is Helm's.
func TestChartTemplateErrorsMatchHelm(t *testing.T) {
	w := newChartWorkspace(t)
	cases := chartCases(t, "errors")
	for _, c := range cases {
		if len(c.errors) == 0 {
			t.Fatalf("%s: a failing value set says what the error must name (# error: lines)", c.name())
		}
		dir := w.chart(t, c.chart)
		t.Run(c.name(), func(t *testing.T) {
			t.Parallel()
			args := []string{"template", corpusRelease, dir, "-n", corpusNamespace, "--values", filepath.Join(dir, c.values)}
			args = append(append(args, c.flags...), "--include-crds")
			cmdline := strings.Join(args, " ")
			h := runCmd(t, w.helmBinary, w.env, args...)
			if h.code == 0 {
				t.Fatalf("helm %s succeeds: the value set must make it fail\n%s", cmdline, h.stdout)
			}
			for _, want := range c.errors {
				if !strings.Contains(h.stderr, want) {
					t.Fatalf("helm %s: its message does not contain %q (fix the # error: line)\n%s", cmdline, want, h.stderr)
				}
			}
			o := runCmd(t, testenv.PluginBinary(), w.env, args...)
			if o.code != 3 {
				t.Errorf("kubectl sherpack %s: exit %d, want 3 (helm fails with: %s)\nstdout: %s\nstderr: %s",
					cmdline, o.code, strings.TrimSpace(h.stderr), o.stdout, o.stderr)
				return
			}
			for _, want := range c.errors {
				if !strings.Contains(o.stderr, want) {
					t.Errorf("kubectl sherpack %s: the message does not contain %q, as Helm's does\nours: %s\nhelm: %s",
						cmdline, want, o.stderr, h.stderr)
				}
			}
		})
	}
}

// The NOTES a chart's install prints are Helm's: the chart's own NOTES.txt only (a subchart's
// are not shown, as `helm install` shows none without --render-subchart-notes), rendered with
// the same values and release. Helm's text comes from `helm install --dry-run=client`, which
// needs no cluster; ours from a real install and `get notes`.
func TestChartNotesMatchHelm(t *testing.T) {
	w := newChartWorkspace(t)
	cases := []struct{ chart, values string }{
		{"webstack", "ci/default-values.yaml"},
		{"database", "ci/standalone-values.yaml"},
		{"platform", "ci/default-values.yaml"},
		{"migrations", "ci/default-values.yaml"},
	}
	for _, c := range cases {
		dir := w.chart(t, c.chart)
		t.Run(c.chart, func(t *testing.T) {
			t.Parallel()
			ns := testenv.Namespace(t)
			values := filepath.Join(dir, c.values)
			h := runCmd(t, w.helmBinary, w.env, "install", corpusRelease, dir, "-n", ns, "--values", values, "--dry-run=client")
			if h.code != 0 {
				t.Fatalf("helm install --dry-run=client: exit %d\n%s", h.code, h.stderr)
			}
			_, helmNotes, ok := strings.Cut(h.stdout, "\nNOTES:\n")
			if !ok || strings.TrimSpace(helmNotes) == "" {
				t.Fatalf("helm install --dry-run=client printed no NOTES:\n%s", h.stdout)
			}
			mustSherpack(t, "install", corpusRelease, dir, "-n", ns, "--values", values, "--wait=false")
			ours := mustSherpack(t, "get", "notes", corpusRelease, "-n", ns)
			if got, want := strings.TrimSpace(ours.stdout), strings.TrimSpace(helmNotes); got != want {
				t.Errorf("NOTES of %s differ from Helm's\n--- helm\n%s\n--- kubectl sherpack\n%s", c.chart, want, got)
			}
		})
	}
}
