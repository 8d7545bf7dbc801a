package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sherpack/kubectl-sherpack/pkg/pack"
)

// The differential conformance suite: every case of testdata/conformance/*.cases is rendered by
// our engine and by Python's Jinja2 (the reference, Debian's python3-jinja2 run by
// /usr/bin/python3, which `make test` installs), with the same context. The outputs must be
// byte-identical, or both must fail. A case file holds cases as
//
//	### name
//	ctx: {"extra": "context"}      (optional; merged over baseContext)
//	template source, up to the next "### " line (its last newline is not part of it)

// oraclePython is Debian's interpreter; the first python3 on PATH may carry another Jinja2.
const oraclePython = "/usr/bin/python3"

// intendedDifferences are the cases where we differ from Jinja2 on purpose. Each must render
// without error on our side and still differ from Jinja2 (a case that starts to agree must leave
// this list).
var intendedDifferences = map[string]string{
	// Jinja2's tojson escapes <, >, & and ' for HTML; a manifest wants them as they are.
	"filter-tojson-html": "tojson does not escape HTML characters",
	// tojson is compact, as upstream's and Helm's toJson; Jinja2 puts a space after , and :.
	"filter-tojson":      "tojson is compact",
	"filter-tojson-list": "tojson is compact",
	// indent follows Helm's meaning (every line, the first included; width first); Jinja2's
	// indent skips the first line unless first=True.
	"filter-indent-helm": "indent indents the first line too (Helm's meaning)",
	"str-yaml-block":     "indent indents the first line too (Helm's meaning)",
	// Semi-strict undefined as upstream's engine has it: a test, a condition or a default on a
	// chain below a missing key (values.a.b with a missing) is false or takes the default;
	// Jinja2's strict undefined fails there.
	"undef-if-deep":            "a condition on values.missing.deeper is false",
	"undef-nested-defined":     "values.missing.b is defined is false",
	"undef-default-deep":       "values.missing.b | default(x) is x",
	"undef-not-deep-in-output": "not values.missing.deeper is true",
	"undef-inline-if-deep":     "an inline if on values.missing.deeper takes the else branch",
	// The engine also takes Python-style *args/**kwargs macro parameters, which Jinja2's
	// parser refuses (it only has the implicit varargs and kwargs).
	"macro-extra-args-declared-star": "macro(a, *rest) parses",
}

// knownGaps are differences we do not want and have not fixed yet: each must still differ (or
// fail) today, and one that starts to agree must leave this list. None is left: the engine
// (internal/jinja, taken from gonja) was fixed wherever it disagreed with Jinja2.
var knownGaps = map[string]string{}

// baseContext is every case's context (keys sorted, so that Jinja2's insertion order and our
// sorted order agree).
const baseContext = `{
 "f": 2.5, "s": "abc", "x": 10, "y": 3,
 "values": {
  "disabled": false, "empty": "", "emptylist": [], "emptymap": {}, "enabled": true,
  "image": {"repository": "nginx", "tag": "1.25"},
  "labels": {"app": "web", "tier": "front"},
  "list": [1, 2, 3], "mixed": "MiXeD case", "multi": "line1\nline2", "name": "web",
  "neg": -7, "nested": {"a": {"b": {"c": "deep"}}}, "none": null, "pi": 3.5,
  "ports": [{"name": "http", "port": 80}, {"name": "https", "port": 443}],
  "replicas": 3, "strs": ["x", "y"], "text": "Hello World", "words": ["b", "a", "c"], "zero": 0
 }
}`

type confCase struct {
	Name string         `json:"name"`
	Src  string         `json:"src"`
	Ctx  map[string]any `json:"ctx"`
	file string
}

func loadCases(t testing.TB) ([]confCase, map[string]string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("testdata", "conformance", "*.cases"))
	if len(files) == 0 {
		t.Fatal("no conformance cases in testdata/conformance")
	}
	var cases []confCase
	seen := map[string]string{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		blocks := strings.Split("\n"+string(raw), "\n### ")
		for _, b := range blocks[1:] {
			name, body, _ := strings.Cut(b, "\n")
			name = strings.TrimSpace(name)
			if prev, dup := seen[name]; dup {
				t.Fatalf("case %q in %s and %s", name, prev, f)
			}
			seen[name] = f
			ctx := decodeContext(t, baseContext)
			if rest, ok := strings.CutPrefix(body, "ctx: "); ok {
				line, tail, _ := strings.Cut(rest, "\n")
				for k, v := range decodeContext(t, line) {
					ctx[k] = v
				}
				body = tail
			}
			cases = append(cases, confCase{Name: name, Src: strings.TrimSuffix(body, "\n"), Ctx: ctx, file: f})
		}
	}
	partials := map[string]string{}
	libs, _ := filepath.Glob(filepath.Join("testdata", "conformance", "lib", "*"))
	for _, l := range libs {
		raw, _ := os.ReadFile(l)
		partials["lib/"+filepath.Base(l)] = string(raw)
	}
	return cases, partials
}

func decodeContext(t testing.TB, s string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("context %s: %v", s, err)
	}
	return pack.Normalize(m).(map[string]any)
}

type oracleResult struct {
	Out *string `json:"out"`
	Err string  `json:"err"`
}

// runOracle renders cases with Python's Jinja2; ok is false (with the reason) when it is missing.
func runOracle(t testing.TB, cases []confCase, partials map[string]string) (map[string]oracleResult, string) {
	t.Helper()
	if err := exec.Command(oraclePython, "-c", "import jinja2").Run(); err != nil {
		return nil, fmt.Sprintf("%s with jinja2 is not available (%v): install Debian's python3-jinja2 (make test does)", oraclePython, err)
	}
	req, _ := json.Marshal(map[string]any{"cases": cases, "partials": partials})
	cmd := exec.Command(oraclePython, "-I", filepath.Join("testdata", "conformance", "oracle.py"))
	cmd.Stdin = bytes.NewReader(req)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("oracle: %v\n%s", err, stderr.String())
	}
	res := map[string]oracleResult{}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("oracle output: %v", err)
	}
	return res, ""
}

func TestConformanceWithJinja2(t *testing.T) {
	t.Parallel()
	cases, partials := loadCases(t)
	ref, skip := runOracle(t, cases, partials)
	if skip != "" {
		t.Skip(skip)
	}
	names := map[string]bool{}
	for _, c := range cases {
		names[c.Name] = true
	}
	for name := range mergeMaps(intendedDifferences, knownGaps) {
		if !names[name] {
			t.Errorf("allowlisted case %q does not exist", name)
		}
	}
	agree := 0
	for _, c := range cases {
		got, err := RenderString("case.j2", c.Src, c.Ctx, StringOptions{Partials: partials})
		want := ref[c.Name]
		reason, ok := intendedDifferences[c.Name]
		if gap, isGap := knownGaps[c.Name]; isGap {
			reason, ok = gap, true
			if err != nil && want.Out == nil {
				t.Errorf("%s (%s): known gap (%s) but we now fail like Jinja2: remove it from knownGaps", c.Name, c.file, gap)
				continue
			}
			if err == nil && want.Out != nil && *want.Out == got {
				t.Errorf("%s (%s): known gap (%s) but now agrees with Jinja2: remove it from knownGaps", c.Name, c.file, gap)
			}
			continue
		}
		if ok {
			switch {
			case err != nil:
				t.Errorf("%s (%s): allowlisted (%s) but fails: %v", c.Name, c.file, reason, err)
			case want.Out != nil && *want.Out == got:
				t.Errorf("%s (%s): allowlisted (%s) but now agrees with Jinja2: remove it from intendedDifferences", c.Name, c.file, reason)
			}
			continue
		}
		switch {
		case want.Out == nil && err == nil:
			t.Errorf("%s (%s): Jinja2 fails (%s), we render %q\n--- template\n%s", c.Name, c.file, want.Err, got, c.Src)
		case want.Out != nil && err != nil:
			t.Errorf("%s (%s): Jinja2 renders %q, we fail: %v\n--- template\n%s", c.Name, c.file, *want.Out, err, c.Src)
		case want.Out != nil && *want.Out != got:
			t.Errorf("%s (%s):\n jinja2: %q\n    ours: %q\n--- template\n%s", c.Name, c.file, *want.Out, got, c.Src)
		default:
			agree++
		}
	}
	t.Logf("%d cases, %d agree with Jinja2 %s, %d intended differences, %d known gaps", len(cases), agree, jinjaVersion(), len(intendedDifferences), len(knownGaps))
}

func mergeMaps(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func jinjaVersion() string {
	out, err := exec.Command(oraclePython, "-c", "import jinja2; print(jinja2.__version__)").Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}
