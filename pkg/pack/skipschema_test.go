package pack

import "testing"

// --skip-schema-validation: values the schema refuses are taken, the schema's defaults still apply.
func TestResolveValuesUnvalidated(t *testing.T) {
	pk := &Pack{File: File{APIVersion: "sherpack/v1", Metadata: Metadata{Name: "p", Version: "0.1.0"}}, Files: map[string][]byte{
		"values.schema.json": []byte(`{"type":"object","properties":{"port":{"type":"integer","default":8080},"mode":{"enum":["a","b"]}}}`),
	}}
	bad := []Layer{{Source: Source{Kind: "set", Name: "--set mode=z"}, Values: map[string]any{"mode": "z"}}}
	if _, err := pk.ResolveValues(bad); err == nil {
		t.Fatal("the schema must refuse mode=z")
	}
	res, err := pk.ResolveValuesUnvalidated(bad)
	if err != nil || res.Values["mode"] != "z" || res.Values["port"] != int64(8080) || res.User["mode"] != "z" {
		t.Fatalf("unvalidated: %v %+v", err, res)
	}
}
