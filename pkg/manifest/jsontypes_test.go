package manifest

import (
	"reflect"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The direct conversion must give exactly what the JSON round trip gives, or decline.
func TestAsJSONObjectMatchesJSONRoundTrip(t *testing.T) {
	docs := []string{
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, labels: {x: y}}\ndata: {k: v, n: \"1\"}\n",
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  replicas: 3\n  template: {spec: {containers: [{name: c, image: i, ports: [{containerPort: 8080}]}]}}\n",
		"apiVersion: v1\nkind: X\nmetadata: {name: f}\nspec: {a: 1.0, b: 1.5, c: -0.0, d: 1e20, e: 1e21, f: 9.3e18, g: -9.223372036854775808e18, k: 9007199254740991.0, h: 0.1, i: 123456789012345678, j: -7}\n",
		"apiVersion: v1\nkind: X\nmetadata: {name: f2}\nspec: {a: 2.0, b: -3.25, c: 9007199254740991.0, d: 1e-7, e: 0.0}\n",
		"apiVersion: v1\nkind: X\nmetadata: {name: g}\nspec: {n: null, t: true, l: [1, 2.5, \"s\", null, [true]], e: {}, el: []}\n",
		"apiVersion: v1\nkind: X\nmetadata: {name: h}\nspec: {html: \"<a href='x'>&</a>\", uni: \"héllo ✓\", big: 18446744073709551615}\n",
		"apiVersion: v1\nkind: X\nmetadata: {name: ts}\nspec: {when: 2001-12-14}\n",
		"apiVersion: v1\nkind: X\nmetadata: {name: nan}\nspec: {x: .nan}\n",
		"apiVersion: v1\nkind: X\nmetadata: {name: keys}\nspec: {1: a, true: b}\n",
		"apiVersion: v1\nkind: X\nmetadata: {name: bin}\nspec: {b: !!binary /w==}\n",
		"apiVersion: v1\nmetadata: {name: nokind}\n",
		"apiVersion: v1\nkind: 7\nmetadata: {name: numkind}\n",
		"apiVersion: 1\nkind: X\nmetadata: {name: numapi}\n",
		"apiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: ConfigMap, metadata: {name: i1}}]\n",
	}
	fast := 0
	for _, d := range docs {
		var a, b any
		if err := yaml.Unmarshal([]byte(d), &a); err != nil {
			t.Fatalf("%q: %v", d, err)
		}
		_ = yaml.Unmarshal([]byte(d), &b)
		want, werr := viaJSON(b.(map[string]any))
		got, ok := asJSONObject(a.(map[string]any))
		if !ok {
			// Declined: the caller takes the round trip; the partly converted mapping must still
			// read the same through it.
			again, aerr := viaJSON(a.(map[string]any))
			if (aerr == nil) != (werr == nil) || (werr == nil && !reflect.DeepEqual(again.Object, want.Object)) {
				t.Errorf("%q: after a declined conversion the round trip gives %v (%v), want %v (%v)", d, again, aerr, want, werr)
			}
			continue
		}
		fast++
		if werr != nil {
			t.Errorf("%q: converted directly, but the round trip fails: %v", d, werr)
			continue
		}
		if !reflect.DeepEqual(got.Object, want.Object) {
			t.Errorf("%q:\ndirect  %#v\nvia JSON %#v", d, got.Object, want.Object)
		}
	}
	if fast < 5 {
		t.Errorf("only %d of %d documents were converted directly", fast, len(docs))
	}
}

// Decode gives what it gave through JSON, for every object of a multi-document stream.
func TestDecodeMatchesJSONRoundTrip(t *testing.T) {
	var s strings.Builder
	for i := 0; i < 50; i++ {
		s.WriteString("---\napiVersion: v1\nkind: Service\nmetadata:\n  name: svc-" + itoa(i) + "\nspec:\n  selector: {app: web}\n  ports: [{name: http, port: 80, targetPort: 8080}]\n")
	}
	objs, err := Decode([]byte(s.String()), "test")
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(strings.NewReader(s.String()))
	for i := 0; ; i++ {
		var v map[string]any
		if err := dec.Decode(&v); err != nil {
			if i != len(objs) {
				t.Fatalf("%d documents, %d objects", i, len(objs))
			}
			break
		}
		want, err := viaJSON(v)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(objs[i].Object, want.Object) {
			t.Errorf("object %d:\ngot  %#v\nwant %#v", i, objs[i].Object, want.Object)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
