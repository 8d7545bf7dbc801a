package render

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sherpack/kubectl-sherpack/pkg/pack"
)

// BenchmarkRender500Objects renders a pack whose templates make 500 objects (a loop over values
// plus macros and filters, as real packs do).
func BenchmarkRender500Objects(b *testing.B) {
	var svc []any
	for i := 0; i < 250; i++ {
		svc = append(svc, map[string]any{"name": fmt.Sprintf("svc-%d", i), "port": int64(8000 + i), "replicas": int64(1 + i%3)})
	}
	pk, err := pack.FromFiles("bench", map[string][]byte{
		"Pack.yaml":          []byte("apiVersion: sherpack/v1\nmetadata: {name: bench, version: 1.0.0, appVersion: '1'}\n"),
		"templates/_m.j2":    []byte("{% macro labels(n) %}app: {{ n }}\nrelease: {{ release.name }}\nversion: {{ pack.appVersion | quote }}{% endmacro %}"),
		"templates/all.yaml": []byte(benchTemplate),
	})
	if err != nil {
		b.Fatal(err)
	}
	values := map[string]any{"services": svc, "image": "registry.local/app:1"}
	for b.Loop() {
		res, err := Render(pk, values, Options{Release: ReleaseInfo{Name: "r", Namespace: "n"}})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Objects) != 500 {
			b.Fatalf("%d objects", len(res.Objects))
		}
	}
}

const benchTemplate = `{% from "_m.j2" import labels %}
{% for s in values.services %}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ s.name }}
  labels:
    {{- labels(s.name) | nindent(4) }}
spec:
  replicas: {{ s.replicas }}
  selector: {matchLabels: {app: {{ s.name }}}}
  template:
    metadata:
      labels: {app: {{ s.name }}}
      annotations: {checksum: {{ s | tojson | sha256 }}}
    spec:
      containers:
        - name: app
          image: {{ values.image | quote }}
          ports: [{containerPort: {{ s.port }}}]
---
apiVersion: v1
kind: Service
metadata:
  name: {{ s.name }}
  labels:
    {{- labels(s.name) | nindent(4) }}
spec:
  selector: {app: {{ s.name }}}
  ports: [{port: 80, targetPort: {{ s.port }}}]
{% endfor %}
`

// BenchmarkRenderOneMiBTemplate renders a single template of 1 MiB (a large ConfigMap of
// literal text with a few expressions).
func BenchmarkRenderOneMiBTemplate(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ release.name }}-big\ndata:\n")
	for i := 0; sb.Len() < 1<<20; i++ {
		fmt.Fprintf(&sb, "  key%06d: \"value number %d for {{ release.name }} with some padding text to fill the line\"\n", i, i)
	}
	pk, err := pack.FromFiles("bench", map[string][]byte{
		"Pack.yaml":          []byte("apiVersion: sherpack/v1\nmetadata: {name: bench, version: 1.0.0}\n"),
		"templates/big.yaml": []byte(sb.String()),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(sb.Len()))
	for b.Loop() {
		if _, err := Render(pk, map[string]any{}, Options{Release: ReleaseInfo{Name: "r", Namespace: "n"}}); err != nil {
			b.Fatal(err)
		}
	}
}
