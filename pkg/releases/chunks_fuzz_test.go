package releases

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// mapObjects is an objectClient over a map, for the chunk reading logic alone.
type mapObjects map[string]*object

func (m mapObjects) Create(_ context.Context, o *object) (string, error) {
	m[o.Namespace+"/"+o.Name] = o
	return "1", nil
}
func (m mapObjects) Update(ctx context.Context, o *object) (string, error) { return m.Create(ctx, o) }
func (m mapObjects) Get(_ context.Context, ns, name string) (*object, error) {
	if o, ok := m[ns+"/"+name]; ok {
		return o, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, name)
}
func (m mapObjects) Delete(_ context.Context, ns, name string) error {
	delete(m, ns+"/"+name)
	return nil
}

// Chunk indexes that lie (sizes, counts, checksums, generations, parts) and chunks that are
// missing, short or altered: every combination is an error naming the record, never a panic, a
// huge allocation, or a record accepted with content other than what was written.
func FuzzChunkIndex(f *testing.F) {
	rel := testRelease("prod", "web", 1, StateDeployed)
	payload, err := Encode(rel, CompressionNone)
	if err != nil {
		f.Fatal(err)
	}
	sum := sha256.Sum256(payload)
	good, _ := json.Marshal(chunkIndex{Part: "release", Gen: "g1", Chunks: 2, Size: len(payload), SHA256: hex.EncodeToString(sum[:])})
	f.Add(good, len(payload)/2, uint8(0), uint8(0))
	f.Add(good, 3, uint8(1), uint8(7))
	f.Add([]byte(`{"part":"release","gen":"g1","chunks":2,"size":1099511627776,"sha256":"00"}`), 10, uint8(0), uint8(0))
	f.Add([]byte(`{"part":"manifest","gen":"g1","chunks":4096,"size":5,"sha256":""}`), 0, uint8(2), uint8(0))
	f.Add([]byte(`{"part":"x","gen":"","chunks":-1}`), 1, uint8(0), uint8(0))
	f.Fuzz(func(t *testing.T, rawIdx []byte, split int, drop uint8, flip uint8) {
		objs := mapObjects{}
		d := &kubeDriver{name: "secrets", objects: objs}
		idxObj := &object{Name: "sh.sherpack.release.v1.web.v1", Namespace: "prod", Data: map[string][]byte{"index": rawIdx}}
		if split < 0 || split > len(payload) {
			split = len(payload) / 2
		}
		parts := [][]byte{append([]byte{}, payload[:split]...), append([]byte{}, payload[split:]...)}
		if flip != 0 && len(parts[1]) > 0 {
			parts[1][int(flip)%len(parts[1])] ^= flip
		}
		for i, p := range parts {
			if drop == uint8(i+1) {
				continue // a chunk missing
			}
			_, _ = objs.Create(context.Background(), &object{Name: chunkName(idxObj.Name, "g1", i), Namespace: "prod", Data: map[string][]byte{"chunk": p}})
		}
		r, _, err := d.decodeObject(context.Background(), idxObj)
		if err != nil {
			var ce *CorruptError
			if !errors.As(err, &ce) || ce.Object == "" {
				t.Fatalf("not a corruption error naming the record: %T %v", err, err)
			}
			return
		}
		if r.Name != rel.Name || r.Revision != rel.Revision || r.Manifest != rel.Manifest {
			t.Fatalf("accepted a record that is not the one written: %s v%d", r.Name, r.Revision)
		}
	})
}
