package pack

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseSet(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in    string
		typed bool
		want  string // JSON
	}{
		{"a=b", true, `{"a":"b"}`},
		{"a.b=c,d=e", true, `{"a":{"b":"c"},"d":"e"}`},
		{"n=3,f=1.5,t=true,x=false,z=null", true, `{"f":"1.5","n":3,"t":true,"x":false,"z":null}`},
		{"n=3,t=true", false, `{"n":"3","t":"true"}`},
		{"lead=007,neg=-4,zero=0", true, `{"lead":"007","neg":-4,"zero":0}`},
		{`a\.b=c`, true, `{"a.b":"c"}`},
		{`a=b\,c`, true, `{"a":"b,c"}`},
		{"list[0]=x,list[2]=z", true, `{"list":["x",null,"z"]}`},
		{"a.list[1].name=n", true, `{"a":{"list":[null,{"name":"n"}]}}`},
		{"names={a,b,c}", true, `{"names":["a","b","c"]}`},
		{"nums={1,2}", true, `{"nums":[1,2]}`},
		{"empty=", true, `{"empty":""}`},
		{"url=http://x/?a=b", true, `{"url":"http://x/?a=b"}`},
	}
	for _, c := range cases {
		got, err := ParseSet(c.in, c.typed)
		if err != nil {
			t.Errorf("ParseSet(%q): %v", c.in, err)
			continue
		}
		b, _ := json.Marshal(got)
		if string(b) != c.want {
			t.Errorf("ParseSet(%q, typed=%v) = %s, want %s", c.in, c.typed, b, c.want)
		}
	}
	for _, bad := range []string{"novalue", "=x", "a..b=c", "a.=c", "[0]=x", "a[x]=1", "a[-1]=1", "a[99999999]=1", "list[0=x", "a={b"} {
		if _, err := ParseSet(bad, true); err == nil {
			t.Errorf("ParseSet(%q) accepted", bad)
		}
	}
}

func TestMergeAndProvenance(t *testing.T) {
	t.Parallel()
	defaults := Layer{Source: Source{Kind: "pack-default", Name: "values.yaml"}, Values: map[string]any{
		"image":    map[string]any{"repository": "r", "tag": "1"},
		"replicas": int64(1),
		"extra":    map[string]any{"a": int64(1), "b": int64(2)},
		"list":     []any{"x", "y"},
	}}
	file := Layer{Source: Source{Kind: "values-file", Name: "prod.yaml"}, Values: map[string]any{
		"image": map[string]any{"tag": "2"},
		"extra": nil, // null deletes
		"list":  []any{"z"},
	}}
	set, _ := ParseSet("replicas=3,image.pullPolicy=Always", true)
	got, prov := Merge(defaults, file, Layer{Source: Source{Kind: "set", Name: "--set replicas=3"}, Values: set})
	want := map[string]any{"image": map[string]any{"repository": "r", "tag": "2", "pullPolicy": "Always"}, "replicas": int64(3), "list": []any{"z"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("merged = %#v\nwant %#v", got, want)
	}
	checks := map[string]string{
		"image.repository": "pack-default", "image.tag": "values-file", "image.pullPolicy": "set",
		"replicas": "set", "list[0]": "values-file",
	}
	for p, kind := range checks {
		if prov[p].Kind != kind {
			t.Errorf("provenance[%s] = %+v, want %s", p, prov[p], kind)
		}
	}
	for p := range prov {
		if strings.HasPrefix(p, "extra") || p == "list[1]" {
			t.Errorf("provenance keeps %s, which no longer exists", p)
		}
	}
	// The layers are not modified.
	if defaults.Values["extra"] == nil {
		t.Fatal("Merge mutated a layer")
	}
}

func TestValueSourcesInOrder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f1 := filepath.Join(dir, "a.yaml")
	f2 := filepath.Join(dir, "b.yaml")
	cert := filepath.Join(dir, "cert.pem")
	os.WriteFile(f1, []byte("a: 1\nb: from-a\nc: {d: 1}\n"), 0o600)
	os.WriteFile(f2, []byte("b: from-b\n"), 0o600)
	os.WriteFile(cert, []byte("-----BEGIN X-----\n"), 0o600)
	o := Options{ValuesFiles: []string{f1, f2, "-"}, Stdin: strings.NewReader("s: stdin\n"),
		Set: []string{"a=2"}, SetString: []string{"n=10"}, SetFile: []string{"tls.cert=" + cert}, SetJSON: []string{`c={"d":5,"e":[1,2]}`}}
	layers, err := o.Layers()
	if err != nil {
		t.Fatal(err)
	}
	got, prov := Merge(layers...)
	if got["a"] != int64(2) || got["b"] != "from-b" || got["s"] != "stdin" || got["n"] != "10" {
		t.Fatalf("values = %#v", got)
	}
	if got["tls"].(map[string]any)["cert"] != "-----BEGIN X-----\n" {
		t.Fatalf("--set-file: %#v", got["tls"])
	}
	c := got["c"].(map[string]any)
	if c["d"] != int64(5) || !reflect.DeepEqual(c["e"], []any{int64(1), int64(2)}) {
		t.Fatalf("--set-json kept integers? %#v", c)
	}
	for p, want := range map[string]Source{
		"a": {Kind: "set", Name: "--set a=2"}, "b": {Kind: "values-file", Name: f2}, "s": {Kind: "values-file", Name: "-"},
		"n": {Kind: "set-string", Name: "--set-string n=10"}, "tls.cert": {Kind: "set-file", Name: "--set-file tls.cert=" + cert},
		"c.d": {Kind: "set-json", Name: `--set-json c={"d":5,"e":[1,2]}`},
	} {
		if prov[p] != want {
			t.Errorf("provenance[%s] = %+v, want %+v", p, prov[p], want)
		}
	}
	if _, err := (Options{ValuesFiles: []string{filepath.Join(dir, "missing.yaml")}}).Layers(); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Fatalf("missing values file: %v", err)
	}
	if _, err := (Options{SetJSON: []string{"a={bad"}}).Layers(); err == nil || !strings.Contains(err.Error(), "--set-json") {
		t.Fatalf("bad --set-json: %v", err)
	}
}

func TestDecodeValuesKeepsIntegers(t *testing.T) {
	t.Parallel()
	v, err := DecodeValues([]byte("replicas: 3\nratio: 0.5\nbig: 9007199254740993\n"), "values.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if v["replicas"] != int64(3) || v["ratio"] != 0.5 || v["big"] != int64(9007199254740993) {
		t.Fatalf("%#v", v)
	}
	if _, err := DecodeValues([]byte("- a\n- b\n"), "values.yaml"); err == nil || !strings.Contains(err.Error(), "values.yaml") {
		t.Fatalf("a list at the top: %v", err)
	}
}

func FuzzParseSet(f *testing.F) {
	for _, s := range []string{"a=b", "a.b[0].c=d,e=f", `a\.b=c\,d`, "x={a,b}", "n=-3", "list[65536]=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseSet(s, true)
		if err == nil {
			if _, err := json.Marshal(v); err != nil {
				t.Fatalf("ParseSet(%q) gave unserialisable values: %v", s, err)
			}
		}
	})
}

func FuzzMerge(f *testing.F) {
	f.Add("a: 1\nb: {c: 2}\n", "b: {c: null, d: [1]}\n")
	f.Add("x: [1, 2]\n", "x: {y: 1}\n")
	f.Fuzz(func(t *testing.T, a, b string) {
		va, err1 := DecodeValues([]byte(a), "a")
		vb, err2 := DecodeValues([]byte(b), "b")
		if err1 != nil || err2 != nil {
			return
		}
		got, prov := Merge(Layer{Source: Source{Kind: "a"}, Values: va}, Layer{Source: Source{Kind: "b"}, Values: vb})
		// Every key b sets (non-null scalars) is b's in the result.
		for k, v := range vb {
			if v == nil {
				if _, ok := got[k]; ok {
					t.Fatalf("null in b did not delete %q", k)
				}
				continue
			}
			if _, isMap := v.(map[string]any); !isMap && !reflect.DeepEqual(got[k], v) {
				t.Fatalf("%q = %#v, want b's %#v", k, got[k], v)
			}
		}
		for p := range prov {
			if p == "" {
				t.Fatal("empty provenance path")
			}
		}
	})
}

func TestValuesFromURL(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/prod.yaml" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("replicas: 7\n"))
	}))
	defer srv.Close()
	layers, err := Options{ValuesFiles: []string{srv.URL + "/prod.yaml"}}.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if layers[0].Values["replicas"] != int64(7) || layers[0].Source.Name != srv.URL+"/prod.yaml" {
		t.Fatalf("%+v", layers[0])
	}
	if _, err := (Options{ValuesFiles: []string{srv.URL + "/missing.yaml"}}).Layers(); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("missing URL: %v", err)
	}
}
