package manifest

import (
	"fmt"
	"strings"
	"testing"
)

// stored3000 is a release manifest of 3,000 objects (80% ConfigMaps, 18% Services, 2% Deployments) as a revision stores it.
func stored3000(b *testing.B) []byte {
	var s strings.Builder
	for i := 0; i < 2400; i++ {
		fmt.Fprintf(&s, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\n  labels: {app.kubernetes.io/managed-by: sherpack}\ndata:\n  key: \"value-%d\"\n  tag: \"1\"\n", i, i)
	}
	for i := 0; i < 540; i++ {
		fmt.Fprintf(&s, "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: svc-%d\nspec:\n  selector: {app: web-%d}\n  ports: [{name: http, port: 80, targetPort: 8080}]\n", i, i%60)
	}
	for i := 0; i < 60; i++ {
		fmt.Fprintf(&s, "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-%d\nspec:\n  replicas: 1\n  template:\n    spec:\n      containers: [{name: web, image: \"registry.local/web:1\", ports: [{containerPort: 8080}]}]\n", i)
	}
	objs, err := Decode([]byte(s.String()), "bench")
	if err != nil || len(objs) != 3000 {
		b.Fatalf("%d objects, %v", len(objs), err)
	}
	y, err := Encode(objs, true)
	if err != nil {
		b.Fatal(err)
	}
	return y
}

func BenchmarkDecode3000Objects(b *testing.B) {
	y := stored3000(b)
	b.SetBytes(int64(len(y)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Decode(y, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncode3000Objects(b *testing.B) {
	objs, _ := Decode(stored3000(b), "bench")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Encode(objs, true); err != nil {
			b.Fatal(err)
		}
	}
}
