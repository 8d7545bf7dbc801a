package helmchart

import (
	"archive/tar"
	"compress/gzip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sherpack/kubectl-sherpack/pkg/pack"
	"github.com/sherpack/kubectl-sherpack/pkg/render"
)

func write(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var shop = map[string]string{
	"Chart.yaml":  "apiVersion: v2\nname: shop\nversion: 1.0.0\nkubeVersion: '>=1.20.0-0'\ndependencies:\n- name: cache\n  version: 0.1.0\n  condition: cache.enabled\n",
	"values.yaml": "replicas: 2\nbig: 1000000\nconfig:\n  level: info\n  color: blue\ncache:\n  enabled: true\n",
	"templates/cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}
data:
  replicas: "{{ .Values.replicas }}"
  big: "{{ .Values.big }}"
  level: "{{ .Values.config.level | default "unset" }}"
  color: "{{ .Values.config.color }}"
  revision: "{{ .Release.Revision }}"
  service: "{{ .Release.Service }}"
`,
	"templates/hook.yaml":              "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hook\n  annotations:\n    helm.sh/hook: post-install\n",
	"templates/NOTES.txt":              "installed {{ .Release.Name }}\n",
	"templates/_helpers.tpl":           "{{- define \"x\" }}unused{{ end }}",
	"templates/empty.yaml":             "{{- if false }}\nkind: Nothing\n{{- end }}\n",
	"crds/thing.yaml":                  "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: things.example.com\n",
	"charts/cache/Chart.yaml":          "apiVersion: v2\nname: cache\nversion: 0.1.0\n",
	"charts/cache/values.yaml":         "size: 64\n",
	"charts/cache/templates/cm.yaml":   "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cache\ndata:\n  size: \"{{ .Values.size }}\"\n",
	"charts/cache/templates/NOTES.txt": "not shown\n",
}

func TestIsChart(t *testing.T) {
	dir := write(t, shop)
	if !IsChart(dir) {
		t.Error("a directory with Chart.yaml is a chart")
	}
	both := write(t, map[string]string{"Chart.yaml": "name: x", "Pack.yaml": "apiVersion: sherpack/v1"})
	if IsChart(both) {
		t.Error("a directory with a Pack.yaml is a pack, even with a Chart.yaml")
	}
	if IsChart(filepath.Join(dir, "missing")) || IsChart(filepath.Join(dir, "values.yaml")) {
		t.Error("a missing path or a plain file is not a chart")
	}
	tgz := filepath.Join(t.TempDir(), "shop-1.0.0.tgz")
	f, _ := os.Create(tgz)
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	for _, name := range []string{"shop/Chart.yaml", "shop/values.yaml"} {
		b := []byte(shop[strings.TrimPrefix(name, "shop/")])
		_ = tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg})
		_, _ = tw.Write(b)
	}
	tw.Close()
	gz.Close()
	f.Close()
	if !IsChart(tgz) {
		t.Error("a .tgz whose top folder holds Chart.yaml is a chart")
	}
}

func TestRenderValuesAsHelm(t *testing.T) {
	ch, err := Load(write(t, shop))
	if err != nil {
		t.Fatal(err)
	}
	file := pack.Layer{Source: pack.Source{Kind: "values-file", Name: "prod.yaml"}, Values: map[string]any{
		"config": map[string]any{"level": nil}, "big": int64(2000000)}}
	set := pack.Layer{Source: pack.Source{Kind: "set", Name: "--set replicas=3"}, Values: map[string]any{"replicas": int64(3)}}
	out, err := ch.Render([]pack.Layer{file, set}, Options{Release: render.ReleaseInfo{Name: "web", Namespace: "prod", Revision: 4, IsUpgrade: true}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Objects) != 2 || len(out.Hooks) != 1 || len(out.CRDs) != 1 {
		t.Fatalf("objects %d hooks %d crds %d, want 2 1 1", len(out.Objects), len(out.Hooks), len(out.CRDs))
	}
	var data map[string]any
	for _, o := range out.Objects {
		if o.GetName() == "web" {
			data = o.Object["data"].(map[string]any)
		}
	}
	want := map[string]string{
		"replicas": "3",     // --set: an integer
		"big":      "2e+06", // a values file: a float64, as Helm reads it
		"level":    "unset", // null deleted the chart's default
		"color":    "blue",  // the rest of the map is kept
		"revision": "4",     // .Release from the options
		"service":  "Helm",  // charts compare .Release.Service with Helm
	}
	for k, v := range want {
		if data[k] != v {
			t.Errorf("data.%s = %v, want %q", k, data[k], v)
		}
	}
	if out.Notes != "installed web" {
		t.Errorf("notes %q: only the top chart's NOTES.txt", out.Notes)
	}
	if got := out.Values.User["config"].(map[string]any); len(got) != 1 || got["level"] != nil {
		t.Errorf("user values keep the null (an upgrade that reuses them deletes the default again): %v", out.Values.User)
	}
	prov := out.Values.Provenance
	for p, w := range map[string]string{"replicas": "--set replicas=3", "big": "prod.yaml", "config.color": "shop/values.yaml", "cache.size": "shop/charts/cache/values.yaml"} {
		if prov[p].Name != w {
			t.Errorf("provenance of %s: %+v, want %s", p, prov[p], w)
		}
	}
	if _, ok := prov["config.level"]; ok {
		t.Error("a deleted value has no provenance")
	}

	ch, _ = Load(write(t, shop))
	off, err := ch.Render([]pack.Layer{{Source: pack.Source{Kind: "set"}, Values: map[string]any{"cache": map[string]any{"enabled": false}}}}, Options{Release: render.ReleaseInfo{Name: "web"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(off.Objects) != 1 {
		t.Errorf("condition cache.enabled=false drops the dependency: %d objects", len(off.Objects))
	}
}

func TestChartRefusals(t *testing.T) {
	lib := write(t, map[string]string{"Chart.yaml": "apiVersion: v2\nname: common\nversion: 1.0.0\ntype: library\n"})
	ch, err := Load(lib)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.Render(nil, Options{}); err == nil || !strings.Contains(err.Error(), "library chart") {
		t.Errorf("a library chart is refused: %v", err)
	}
	files := map[string]string{}
	for k, v := range shop {
		if !strings.HasPrefix(k, "charts/") {
			files[k] = v
		}
	}
	if _, err := Load(write(t, files)); err == nil || !strings.Contains(err.Error(), "cache") || !strings.Contains(err.Error(), "helm dependency build") {
		t.Errorf("a dependency not vendored is named, with how to vendor it: %v", err)
	}
	files = map[string]string{}
	for k, v := range shop {
		files[k] = v
	}
	files["Chart.yaml"] = strings.Replace(shop["Chart.yaml"], ">=1.20.0-0", ">=1.99.0", 1)
	ch, _ = Load(write(t, files))
	if _, err := ch.Render(nil, Options{Capabilities: &render.Capabilities{KubeVersion: "v1.37.2", FromCluster: true}}); err == nil || !strings.Contains(err.Error(), "kubeVersion") {
		t.Errorf("kubeVersion is enforced against the cluster's: %v", err)
	}
}

func TestCapabilities(t *testing.T) {
	off, err := helmCapabilities(&render.Capabilities{KubeVersion: "v1.31.4", APIVersions: []string{"example.com/v1/Thing"}})
	if err != nil {
		t.Fatal(err)
	}
	if !off.APIVersions.Has("apps/v1") || !off.APIVersions.Has("example.com/v1/Thing") || off.KubeVersion.Version != "v1.31.4" {
		t.Errorf("offline: Helm's defaults plus the versions given: %v %v", off.KubeVersion, off.APIVersions)
	}
	live, _ := helmCapabilities(&render.Capabilities{KubeVersion: "v1.37.2", APIVersions: []string{"v1", "apps/v1/Deployment"}, FromCluster: true})
	if live.APIVersions.Has("batch/v1") || !live.APIVersions.Has("apps/v1/Deployment") {
		t.Errorf("from the cluster: discovery's list as is: %v", live.APIVersions)
	}
}

// TestOnlyHelmsChartPackages guards the dependency: Helm's chart loader, values and engine, never
// its actions, Kubernetes client or release storage.
func TestOnlyHelmsChartPackages(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/sherpack/kubectl-sherpack/cmd/kubectl-sherpack").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	var helm []string
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, "helm.sh/") {
			helm = append(helm, p)
		}
		for _, banned := range []string{"helm.sh/helm/v4/pkg/action", "helm.sh/helm/v4/pkg/kube", "helm.sh/helm/v4/pkg/storage", "helm.sh/helm/v4/pkg/registry", "helm.sh/helm/v4/pkg/getter"} {
			if p == banned || strings.HasPrefix(p, banned+"/") {
				t.Errorf("the plugin links %s: only Helm's chart and engine packages may be used", p)
			}
		}
	}
	if len(helm) == 0 {
		t.Error("no Helm package linked: the check would prove nothing")
	}
}

// TestSetIntoLists: a --set path into a list changes that item and keeps the others, as Helm
// parses --set into the values the files and earlier flags built; the previous release's list
// is replaced, not merged, as Helm coalesces reused values.
func TestSetIntoLists(t *testing.T) {
	file := pack.Layer{Source: pack.Source{Kind: "values-file"}, Values: map[string]any{"cmd": []any{"f0", "f1"},
		"tol": []any{map[string]any{"key": "k", "value": "v"}}}}
	set := func(v map[string]any) pack.Layer { return pack.Layer{Source: pack.Source{Kind: "set"}, Values: v} }
	got := MergeUser([]pack.Layer{file, set(map[string]any{"cmd": []any{nil, "S"}}), set(map[string]any{"tol": []any{map[string]any{"value": "x"}}})})
	if c := got["cmd"].([]any); len(c) != 2 || c[0] != "f0" || c[1] != "S" {
		t.Errorf("--values then --set cmd[1]=S: %v, want [f0 S]", c)
	}
	if tol := got["tol"].([]any)[0].(map[string]any); tol["key"] != "k" || tol["value"] != "x" {
		t.Errorf("--set tol[0].value=x keeps tol[0].key: %v", tol)
	}
	got = MergeUser([]pack.Layer{set(map[string]any{"cmd": []any{"A"}}), set(map[string]any{"cmd": []any{nil, "S"}})})
	if c := got["cmd"].([]any); len(c) != 2 || c[0] != "A" || c[1] != "S" {
		t.Errorf("--set cmd[0]=A --set cmd[1]=S: %v", c)
	}
	prev := pack.Layer{Source: pack.Source{Kind: "previous-release"}, Values: map[string]any{"cmd": []any{"p0", "p1"}}}
	got = MergeUser([]pack.Layer{prev, set(map[string]any{"cmd": []any{nil, "S"}})})
	if c := got["cmd"].([]any); len(c) != 2 || c[0] != nil || c[1] != "S" {
		t.Errorf("reused values are coalesced under the new ones (lists replaced): %v", c)
	}
}
