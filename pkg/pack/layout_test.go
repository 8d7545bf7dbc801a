package pack

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func memPack(t *testing.T, files map[string]string) (*Pack, error) {
	t.Helper()
	m := map[string][]byte{}
	for k, v := range files {
		m[k] = []byte(v)
	}
	return FromFiles("mem", m)
}

const sub = "apiVersion: sherpack/v1\nmetadata: {name: redis, version: 1.0.0}\n"

func TestUnknownPackKeysAreWarnings(t *testing.T) {
	t.Parallel()
	pk, err := memPack(t, map[string]string{"Pack.yaml": "apiVersion: sherpack/v1\nmetadata:\n  name: a\n  version: 1.0.0\n  versoin: 2\nengine:\n  strict: false\n  stric: true\ncrds:\n  install: true\n  upgrade: {enabled: true, strategy: safe}\n  uninstall: {keep: true}\n  waitReady: true\n  waitTimeout: 60s\nfrobnicate: 1\n"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range pk.Warnings {
		got = append(got, w.String())
	}
	want := []string{
		`mem/Pack.yaml:5: unknown key "metadata.versoin" (did you mean "metadata.version"?); it is ignored`,
		`mem/Pack.yaml:8: unknown key "engine.stric" (did you mean "engine.strict"?); it is ignored`,
		`mem/Pack.yaml:15: unknown key "frobnicate"; it is ignored`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if pk.StrictUndefined() {
		t.Fatal("engine.strict: false is not honoured")
	}
	if pk.CRDPolicy == nil || pk.CRDPolicy.Upgrade.Strategy != "safe" || pk.CRDPolicy.WaitTimeout != "60s" || !*pk.CRDPolicy.Uninstall.Keep {
		t.Fatalf("crds block: %+v", pk.CRDPolicy)
	}
}

func TestSubpackLocations(t *testing.T) {
	t.Parallel()
	for _, dir := range []string{"charts/redis", "packs/redis", "vendor/redis"} {
		repo := ""
		if dir == "vendor/redis" {
			repo = ", repository: 'file://./vendor/redis'"
		}
		pk, err := memPack(t, map[string]string{
			"Pack.yaml":          "apiVersion: sherpack/v1\nmetadata: {name: a, version: 1.0.0}\ndependencies: [{name: redis" + repo + "}]",
			dir + "/Pack.yaml":   sub,
			dir + "/values.yaml": "port: 6379\n",
		})
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		if len(pk.Subpacks) != 1 || pk.Subpacks[0].Pack == nil || pk.Subpacks[0].Dir != dir {
			t.Fatalf("%s: subpacks %+v", dir, pk.Subpacks)
		}
		res, err := pk.ResolveValues(nil)
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := Lookup(res.Values, "redis.port"); v != int64(6379) {
			t.Fatalf("%s: redis.port = %v", dir, v)
		}
		if s := res.Provenance["redis.port"]; s.Name != dir+"/values.yaml" {
			t.Fatalf("%s: provenance %+v", dir, s)
		}
	}
}

func TestVendoredRemoteDependency(t *testing.T) {
	t.Parallel()
	pk, err := memPack(t, map[string]string{
		"Pack.yaml":              "apiVersion: sherpack/v1\nmetadata: {name: a, version: 1.0.0}\ndependencies: [{name: redis, version: '^1.0.0', repository: 'oci://registry.example.com/packs'}]",
		"charts/redis/Pack.yaml": sub,
	})
	if err != nil || pk.Subpacks[0].Pack.Metadata.Name != "redis" {
		t.Fatalf("vendored copy not used: %v", err)
	}
}

func TestFileDependencyOutsideThePack(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	must := func(p, s string) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	must(filepath.Join(root, "app", "Pack.yaml"), "apiVersion: sherpack/v1\nmetadata: {name: a, version: 1.0.0}\ndependencies: [{name: redis, repository: 'file://../redis'}]")
	must(filepath.Join(root, "redis", "Pack.yaml"), sub)
	pk, err := Load(filepath.Join(root, "app"))
	if err != nil {
		t.Fatal(err)
	}
	if pk.Subpacks[0].Pack == nil || pk.Subpacks[0].Pack.Metadata.Name != "redis" {
		t.Fatalf("file:// dependency: %+v", pk.Subpacks[0])
	}
}

func TestDisabledMissingDependency(t *testing.T) {
	t.Parallel()
	pk, err := memPack(t, map[string]string{
		"Pack.yaml":   "apiVersion: sherpack/v1\nmetadata: {name: a, version: 1.0.0}\ndependencies:\n- {name: off, enabled: false}\n- {name: cond, condition: cond.enabled}\n- {name: tagged, tags: [extras]}\n",
		"values.yaml": "cond: {enabled: false}\ntags: {extras: false}\n",
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pk.ResolveValues(nil); err != nil {
		t.Fatalf("disabled dependencies whose folder is missing: %v", err)
	}
	set, _ := ParseSet("tags.extras=true", false)
	if _, err := pk.ResolveValues([]Layer{{Values: set}}); err == nil || !strings.Contains(err.Error(), "dependency tagged") {
		t.Fatalf("enabling a missing dependency by tag: %v", err)
	}
	set, _ = ParseSet("cond.enabled=true", false)
	if _, err := pk.ResolveValues([]Layer{{Values: set}}); err == nil || !strings.Contains(err.Error(), "dependency cond") {
		t.Fatalf("enabling a missing dependency by condition: %v", err)
	}
}

func TestTagsAndConditions(t *testing.T) {
	t.Parallel()
	yes := true
	sp := &Subpack{Dependency: Dependency{Name: "x", Tags: []string{"a", "b"}}}
	cases := []struct {
		values map[string]any
		want   bool
	}{
		{map[string]any{}, true},
		{map[string]any{"tags": map[string]any{"a": false}}, false},
		{map[string]any{"tags": map[string]any{"a": false, "b": true}}, true},
	}
	for i, c := range cases {
		got, err := sp.EnabledIn(c.values)
		if err != nil || got != c.want {
			t.Errorf("case %d: %v %v, want %v", i, got, err, c.want)
		}
	}
	sp.Condition = "x.enabled"
	if got, _ := sp.EnabledIn(map[string]any{"x": map[string]any{"enabled": yes}, "tags": map[string]any{"a": false}}); !got {
		t.Error("a condition that is set wins over tags")
	}
}

func TestSchemaFilesAsUpstream(t *testing.T) {
	t.Parallel()
	simplified := "properties:\n  replicas: {type: integer, min: 1, default: 2, required: true}\n"
	jsonSchema := `{"type":"object","properties":{"replicas":{"type":"integer","minimum":1,"default":2}}}`
	for name, body := range map[string]string{
		"values.schema.yaml": simplified, "schema.yaml": simplified, "schema.json": jsonSchema, "values.schema.json": jsonSchema,
	} {
		pk, err := memPack(t, map[string]string{"Pack.yaml": "apiVersion: sherpack/v1\nmetadata: {name: a, version: 1.0.0}\n", name: body})
		if err != nil {
			t.Fatal(err)
		}
		res, err := pk.ResolveValues(nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if v, _ := Lookup(res.Values, "replicas"); v != int64(2) {
			t.Fatalf("%s: default replicas = %v", name, v)
		}
		set, _ := ParseSet("replicas=0", false)
		if _, err := pk.ResolveValues([]Layer{{Values: set}}); err == nil {
			t.Fatalf("%s: replicas=0 passed a schema with minimum 1", name)
		}
	}
}

func TestSetTakesJSONAsUpstream(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want string
	}{
		{`a=[1,"x",{"b":true}]`, `{"a":[1,"x",{"b":true}]}`},
		{`a={"b":{"c":[1,2]}},d=3`, `{"a":{"b":{"c":[1,2]}},"d":3}`},
		{`a={x,y}`, `{"a":["x","y"]}`},    // not JSON: Helm's list
		{`a=[1,2`, `{"a":"[1","2":null}`}, // not JSON: Helm's syntax (a bare key)
		{`a=[]`, `{"a":[]}`},
	}
	for _, c := range cases {
		got, err := ParseSet(c.in, true)
		if c.in == `a=[1,2` {
			if err == nil {
				t.Errorf("%s: no error for a key without a value", c.in)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		b, _ := json.Marshal(got)
		if string(b) != c.want {
			t.Errorf("%s: %s, want %s", c.in, b, c.want)
		}
	}
	if got, _ := ParseSet(`a=["x"]`, false); got["a"] != `["x"]` {
		t.Errorf("--set-string keeps Helm's syntax: %#v", got)
	}
}
