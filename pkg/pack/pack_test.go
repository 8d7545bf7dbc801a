package pack

import (
	"archive/tar"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func examples(t *testing.T, name string) string {
	t.Helper()
	return filepath.Join("..", "..", "examples", name)
}

func TestLoadExamples(t *testing.T) {
	t.Parallel()
	web, err := Load(examples(t, "webapp"))
	if err != nil {
		t.Fatal(err)
	}
	if web.Metadata.Name != "webapp" || web.Metadata.Version != "1.2.0" || web.Kind != KindApplication {
		t.Fatalf("webapp metadata: %+v", web.Metadata)
	}
	plat, err := Load(examples(t, "platform"))
	if err != nil {
		t.Fatal(err)
	}
	if len(plat.Subpacks) != 2 || plat.Subpacks[0].Pack.Kind != KindLibrary {
		t.Fatalf("platform subpacks: %+v", plat.Subpacks)
	}
	if err := plat.Subpacks[0].Pack.Installable(); err == nil || !strings.Contains(err.Error(), "library pack") {
		t.Fatalf("library pack installable: %v", err)
	}
	res, err := plat.ResolveValues(nil)
	if err != nil {
		t.Fatal(err)
	}
	// The subpack's defaults appear under its name, with their provenance.
	if v, _ := Lookup(res.Values, "cache.port"); v != int64(6379) {
		t.Fatalf("cache.port = %v", v)
	}
	if s := res.Provenance["cache.port"]; s.Kind != "pack-default" || s.Name != "packs/cache/values.yaml" {
		t.Fatalf("provenance of cache.port: %+v", s)
	}
	if s := res.Provenance["cache.replicas"]; s.Name != "values.yaml" {
		t.Fatalf("the parent's values.yaml must win over the subpack's: %+v", s)
	}
}

func TestSchemaDefaultsAndViolations(t *testing.T) {
	t.Parallel()
	web, err := Load(examples(t, "webapp"))
	if err != nil {
		t.Fatal(err)
	}
	set, _ := ParseSet("replicas=99,image.tag=bad tag!,config.logLevel=loud", true)
	_, err = web.ResolveValues([]Layer{{Source: Source{Kind: "set"}, Values: set}})
	se, ok := err.(*SchemaError)
	if !ok || len(se.Violations) != 3 {
		t.Fatalf("want 3 violations, got %v", err)
	}
	for _, want := range []string{"values.replicas", "values.image.tag", "values.config.logLevel"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not list %s:\n%v", want, err)
		}
	}
	// Defaults come from the schema when values.yaml is silent.
	files := map[string][]byte{
		"Pack.yaml":          []byte("apiVersion: sherpack/v1\nmetadata: {name: s, version: 0.1.0}\n"),
		"values.schema.json": []byte(`{"type":"object","properties":{"port":{"type":"integer","default":8080},"tls":{"type":"object","properties":{"enabled":{"type":"boolean","default":false}}}},"required":["port"]}`),
	}
	pk, err := FromFiles("mem", files)
	if err != nil {
		t.Fatal(err)
	}
	res, err := pk.ResolveValues(nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Values["port"] != int64(8080) || res.Provenance["port"].Kind != "schema-default" {
		t.Fatalf("schema default: %#v %+v", res.Values, res.Provenance)
	}
	if v, _ := Lookup(res.Values, "tls.enabled"); v != false {
		t.Fatalf("nested default: %#v", res.Values)
	}
}

func TestPackErrors(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		files map[string]string
		want  string
	}{
		"no Pack.yaml":      {map[string]string{"values.yaml": "a: 1"}, "no Pack.yaml"},
		"wrong apiVersion":  {map[string]string{"Pack.yaml": "apiVersion: v2\nmetadata: {name: a, version: 1.0.0}"}, "must be sherpack/v1"},
		"loose version":     {map[string]string{"Pack.yaml": "apiVersion: sherpack/v1\nmetadata: {name: a, version: \"1.0\"}"}, "strict semver"},
		"remote dependency": {map[string]string{"Pack.yaml": "apiVersion: sherpack/v1\nmetadata: {name: a, version: 1.0.0}\ndependencies: [{name: redis, repository: https://charts.example.com}]"}, "must be vendored: put the pack under charts/redis/"},
		"missing subpack":   {map[string]string{"Pack.yaml": "apiVersion: sherpack/v1\nmetadata: {name: a, version: 1.0.0}\ndependencies: [{name: redis}]"}, "no pack at charts/redis/ or packs/redis/"},
		"bad resolve":       {map[string]string{"Pack.yaml": "apiVersion: sherpack/v1\nmetadata: {name: a, version: 1.0.0}\ndependencies: [{name: redis, resolve: sometimes}]"}, "must be always, when-enabled or never"},
		"bad crds strategy": {map[string]string{"Pack.yaml": "apiVersion: sherpack/v1\nmetadata: {name: a, version: 1.0.0}\ncrds: {upgrade: {strategy: yolo}}"}, "crds.upgrade.strategy"},
		"bad crds timeout":  {map[string]string{"Pack.yaml": "apiVersion: sherpack/v1\nmetadata: {name: a, version: 1.0.0}\ncrds: {waitTimeout: soon}"}, "crds.waitTimeout"},
		"version mismatch": {map[string]string{
			"Pack.yaml":             "apiVersion: sherpack/v1\nmetadata: {name: a, version: 1.0.0}\ndependencies: [{name: redis, version: '^2.0.0'}]",
			"packs/redis/Pack.yaml": "apiVersion: sherpack/v1\nmetadata: {name: redis, version: 1.0.0}"}, "wants version ^2.0.0"},
		"bad values": {map[string]string{"Pack.yaml": "apiVersion: sherpack/v1\nmetadata: {name: a, version: 1.0.0}", "values.yaml": "a: [1"}, "values.yaml"},
	}
	for name, c := range cases {
		files := map[string][]byte{}
		for k, v := range c.files {
			files[k] = []byte(v)
		}
		_, err := FromFiles("mem", files)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", name, err, c.want)
		}
	}
}

func TestKubeVersionEnforced(t *testing.T) {
	t.Parallel()
	pk, _ := FromFiles("mem", map[string][]byte{"Pack.yaml": []byte("apiVersion: sherpack/v1\nmetadata: {name: a, version: 1.0.0, kubeVersion: '>=1.30.0'}")})
	if err := pk.CheckKubeVersion("v1.37.2"); err != nil {
		t.Fatal(err)
	}
	if err := pk.CheckKubeVersion("v1.29.4+k3s1"); err == nil || !strings.Contains(err.Error(), "needs Kubernetes >=1.30.0") {
		t.Fatalf("old cluster: %v", err)
	}
}

func TestLoadArchive(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "webapp-1.2.0.tgz")
	f, _ := os.Create(p)
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	root := examples(t, "webapp")
	filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		data, _ := os.ReadFile(path)
		tw.WriteHeader(&tar.Header{Name: "webapp/" + filepath.ToSlash(rel), Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg})
		tw.Write(data)
		return nil
	})
	tw.Close()
	gz.Close()
	f.Close()
	pk, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if pk.Metadata.Name != "webapp" || len(pk.Templates()) == 0 {
		t.Fatalf("archive pack: %+v, templates %v", pk.Metadata, pk.Templates())
	}
}
