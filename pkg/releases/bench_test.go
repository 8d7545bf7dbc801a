package releases

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/sherpack/kubectl-sherpack/internal/testenv"
)

// realisticRelease is a 300-object release: 200 ConfigMaps, 50 Deployments, 50 Services, with
// values and notes, as a pack would render it.
func realisticRelease() *Release {
	var m strings.Builder
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&m, "---\n# Source: shop/templates/config-%d.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shop-config-%d\n  namespace: prod\n  labels:\n    app.kubernetes.io/name: shop\n    app.kubernetes.io/instance: shop\n    app.kubernetes.io/managed-by: sherpack\n    app.kubernetes.io/component: config-%d\ndata:\n  LOG_LEVEL: info\n  FEATURE_%d: \"true\"\n  settings.json: |\n    {\"timeoutSeconds\": %d, \"retries\": 3, \"endpoint\": \"http://shop-api-%d.prod.svc:8080/v1\"}\n", i, i, i, i, 10+i%7, i%50)
	}
	for i := 0; i < 50; i++ {
		fmt.Fprintf(&m, "---\n# Source: shop/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: shop-api-%d\n  namespace: prod\n  labels:\n    app.kubernetes.io/name: shop-api-%d\n    app.kubernetes.io/instance: shop\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: shop-api-%d\n  template:\n    metadata:\n      labels:\n        app.kubernetes.io/name: shop-api-%d\n      annotations:\n        checksum/config: %064x\n    spec:\n      containers:\n      - name: api\n        image: registry.local/shop/api:3.1.%d\n        ports:\n        - containerPort: 8080\n          name: http\n        resources:\n          requests: {cpu: 100m, memory: 128Mi}\n          limits: {memory: 512Mi}\n        readinessProbe:\n          httpGet: {path: /healthz, port: http}\n        envFrom:\n        - configMapRef: {name: shop-config-%d}\n", i, i, i, i, i*7919, i, i)
	}
	for i := 0; i < 50; i++ {
		fmt.Fprintf(&m, "---\n# Source: shop/templates/service.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: shop-api-%d\n  namespace: prod\n  labels:\n    app.kubernetes.io/name: shop-api-%d\nspec:\n  selector:\n    app.kubernetes.io/name: shop-api-%d\n  ports:\n  - port: 80\n    targetPort: http\n    name: http\n", i, i, i)
	}
	r := testRelease("prod", "shop", 4, StateDeployed)
	r.Manifest = m.String()
	return r
}

// helmEncode is Helm's release encoding of the same content: JSON, gzip at best compression,
// base64 (the Secret then holds that text).
func helmEncode(r *Release) []byte {
	raw, _ := json.Marshal(r)
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	w.Write(raw)
	w.Close()
	return []byte(base64.StdEncoding.EncodeToString(buf.Bytes()))
}

// BenchmarkCodec reports stored bytes and encode/decode time of a 300-object release for each
// codec and for Helm's encoding; "x-helm" is the stored size relative to Helm's.
func BenchmarkCodec(b *testing.B) {
	r := realisticRelease()
	helm := len(helmEncode(r))
	b.Run("helm-json-gzip-base64/encode", func(b *testing.B) {
		var n int
		for b.Loop() {
			n = len(helmEncode(r))
		}
		b.ReportMetric(float64(n), "stored-bytes")
		b.ReportMetric(1, "x-helm")
	})
	for _, c := range []Compression{CompressionZstd, CompressionLZ4, CompressionGzip, CompressionNone} {
		payload, _ := Encode(r, c)
		b.Run(string(c)+"/encode", func(b *testing.B) {
			for b.Loop() {
				if _, err := Encode(r, c); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(payload)), "stored-bytes")
			b.ReportMetric(float64(len(payload))/float64(helm), "x-helm")
		})
		b.Run(string(c)+"/decode", func(b *testing.B) {
			for b.Loop() {
				if _, err := Decode(payload, "bench"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkListThousandReleases lists 1,000 releases x 10 revisions from the local API server
// (Secrets driver): metadata only, no payload decoded.
func BenchmarkListThousandReleases(b *testing.B) {
	ns := testenv.Namespace(b)
	cs, md := kubeClients(b, testenv.RESTConfig(b))
	d := NewSecretsDriver(cs, md, KubeOptions{})
	ctx := context.Background()
	small := testRelease(ns, "x", 1, StateSuperseded)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	errs := make(chan error, 1)
	for i := 0; i < 1000; i++ {
		for rev := 1; rev <= 10; rev++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				r := small.DeepCopy()
				r.Name, r.Revision = fmt.Sprintf("app-%04d", i), rev
				if rev == 10 {
					r.State = StateDeployed
				}
				if err := d.Create(ctx, r); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}()
		}
	}
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	s := NewStore(d)
	for b.Loop() {
		ms, err := s.List(ctx, ListOptions{Namespace: ns})
		if err != nil {
			b.Fatal(err)
		}
		if len(ms) != 1000 {
			b.Fatalf("listed %d releases", len(ms))
		}
	}
}
