package releases

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
)

// LargeReleaseStrategy is how a release bigger than one object holds is stored.
type LargeReleaseStrategy string

// The strategies.
const (
	// Chunked splits the whole payload over chunk objects behind an index object.
	Chunked LargeReleaseStrategy = "chunked"
	// SeparateManifests keeps the record inline and moves only the manifest to chunk objects.
	SeparateManifests LargeReleaseStrategy = "separate-manifests"
)

// The API server refuses Secrets and ConfigMaps whose data exceeds 1 MiB. Keep headroom for
// labels, annotations and the object envelope.
const (
	objectDataLimit = 1 << 20
	defaultChunk    = objectDataLimit - 64<<10
)

// KubeOptions configure the Secrets and ConfigMaps drivers.
type KubeOptions struct {
	// Namespace stores every record there instead of in each release's namespace.
	Namespace   string
	Compression Compression
	Strategy    LargeReleaseStrategy
	// ChunkSize is the largest payload kept in one object (tests lower it).
	ChunkSize int
	// Clock is this machine's wall clock, written into the lock Lease and compared with the
	// holder's renewal time (default time.Now; tests set one that runs ahead or behind).
	Clock func() time.Time
	// Notify, if set, is told in a sentence when taking the lock has to wait (a lock that looks
	// expired is watched for a TTL before it is taken over).
	Notify func(msg string)
}

// kubeDriver stores records as Secrets or ConfigMaps; objects says which.
type kubeDriver struct {
	name    string
	objects objectClient
	meta    metadata.Interface
	gvr     schema.GroupVersionResource
	client  kubernetes.Interface
	opts    KubeOptions
}

// NewSecretsDriver stores records as Secrets of type sherpack.io/release.v1 (the default).
func NewSecretsDriver(cs kubernetes.Interface, md metadata.Interface, opts KubeOptions) Driver {
	return newKubeDriver("secrets", secretObjects{cs}, cs, md, corev1.SchemeGroupVersion.WithResource("secrets"), opts)
}

// NewConfigMapsDriver stores records as ConfigMaps (binaryData).
func NewConfigMapsDriver(cs kubernetes.Interface, md metadata.Interface, opts KubeOptions) Driver {
	return newKubeDriver("configmaps", configMapObjects{cs}, cs, md, corev1.SchemeGroupVersion.WithResource("configmaps"), opts)
}

func newKubeDriver(name string, objs objectClient, cs kubernetes.Interface, md metadata.Interface, gvr schema.GroupVersionResource, opts KubeOptions) *kubeDriver {
	if opts.Compression == "" {
		opts.Compression = CompressionZstd
	}
	if opts.Strategy == "" {
		opts.Strategy = Chunked
	}
	if opts.ChunkSize <= 0 || opts.ChunkSize > defaultChunk {
		opts.ChunkSize = defaultChunk
	}
	return &kubeDriver{name: name, objects: objs, meta: md, gvr: gvr, client: cs, opts: opts}
}

func (d *kubeDriver) Name() string { return d.name }

func (d *kubeDriver) ns(releaseNamespace string) string {
	if d.opts.Namespace != "" {
		return d.opts.Namespace
	}
	return releaseNamespace
}

// key is the record's object name. With a shared storage namespace the release namespace is
// part of it, so that releases of one name in two namespaces do not collide.
func (d *kubeDriver) key(namespace, name string, revision int) string {
	if d.opts.Namespace != "" {
		return fmt.Sprintf("sh.sherpack.release.v1.%s.%s.v%d", namespace, name, revision)
	}
	return ObjectName(name, revision)
}

func (d *kubeDriver) labels(r *Release) map[string]string {
	l := metaLabels(r)
	if d.opts.Namespace != "" {
		l[labelReleaseNamespace] = r.Namespace
	}
	return l
}

func (d *kubeDriver) where(ns, key string) string {
	return fmt.Sprintf("%s %s/%s", d.kindName(), ns, key)
}

func (d *kubeDriver) kindName() string {
	if d.name == "secrets" {
		return "Secret"
	}
	return "ConfigMap"
}

// chunkIndex is stored in the index object of a chunked record.
type chunkIndex struct {
	Part   string `json:"part"` // "release" (whole payload) or "manifest" (separate-manifests)
	Gen    string `json:"gen"`
	Chunks int    `json:"chunks"`
	Size   int    `json:"size"`
	SHA256 string `json:"sha256"`
}

func chunkName(key, gen string, i int) string { return fmt.Sprintf("%s.%s.%d", key, gen, i) }

// layout decides what goes where: the index object's data and, for large records, the chunks.
func (d *kubeDriver) layout(r *Release) (data map[string][]byte, payloadKind string, idx *chunkIndex, chunks [][]byte, err error) {
	payload, err := Encode(r, d.opts.Compression)
	if err != nil {
		return nil, "", nil, nil, err
	}
	if len(payload) <= d.opts.ChunkSize {
		return map[string][]byte{"release": payload}, "inline", nil, nil, nil
	}
	part, big := "release", payload
	data = map[string][]byte{}
	if d.opts.Strategy == SeparateManifests {
		slim := *r
		slim.Manifest = ""
		rest, err := Encode(&slim, d.opts.Compression)
		if err != nil {
			return nil, "", nil, nil, err
		}
		if len(rest) <= d.opts.ChunkSize/2 {
			manifest, err := Compress([]byte(r.Manifest), d.opts.Compression)
			if err != nil {
				return nil, "", nil, nil, err
			}
			part, big = "manifest", manifest
			data["release"] = rest
		}
	}
	gen, err := randomGen()
	if err != nil {
		return nil, "", nil, nil, err
	}
	sum := sha256.Sum256(big)
	idx = &chunkIndex{Part: part, Gen: gen, Size: len(big), SHA256: hex.EncodeToString(sum[:])}
	for off := 0; off < len(big); off += d.opts.ChunkSize {
		chunks = append(chunks, big[off:min(off+d.opts.ChunkSize, len(big))])
	}
	idx.Chunks = len(chunks)
	raw, _ := json.Marshal(idx)
	data["index"] = raw
	kind := "chunked"
	if part == "manifest" {
		kind = "separate-manifests"
	}
	return data, kind, idx, chunks, nil
}

func (d *kubeDriver) Create(ctx context.Context, r *Release) error {
	ns, key := d.ns(r.Namespace), d.key(r.Namespace, r.Name, r.Revision)
	data, kind, idx, chunks, err := d.layout(r)
	if err != nil {
		return err
	}
	if idx != nil {
		// Chunks of an earlier attempt at this revision that crashed before its index was written.
		if err := d.deleteChunks(ctx, r.Namespace, r.Name, r.Revision, ""); err != nil {
			return err
		}
		if err := d.writeChunks(ctx, ns, r, idx, chunks); err != nil {
			return err
		}
	}
	obj := &object{Name: key, Namespace: ns, Labels: d.labels(r), Annotations: metaAnnotations(r), Data: data}
	obj.Annotations[annPayload] = kind
	obj.Annotations[annCompression] = string(d.opts.Compression)
	if idx != nil {
		obj.Annotations[annChunkGen] = idx.Gen
	}
	var rv string
	err = retryWrite(ctx, func() error {
		var e error
		rv, e = d.objects.Create(ctx, obj)
		return e
	}, apierrors.IsAlreadyExists, func() bool {
		cur, e := d.objects.Get(ctx, ns, key)
		if e != nil || !sameData(cur.Data, obj.Data) {
			return false
		}
		rv = cur.ResourceVersion
		return true
	})
	if err != nil {
		if idx != nil {
			_ = d.deleteChunks(context.WithoutCancel(ctx), r.Namespace, r.Name, r.Revision, "")
		}
		if apierrors.IsAlreadyExists(err) {
			return &ExistsError{Object: d.where(ns, key)}
		}
		return fmt.Errorf("store %s: %w", d.where(ns, key), err)
	}
	r.storageVersion = rv
	return nil
}

func (d *kubeDriver) Update(ctx context.Context, r *Release) error {
	ns, key := d.ns(r.Namespace), d.key(r.Namespace, r.Name, r.Revision)
	if r.storageVersion == "" {
		return fmt.Errorf("update %s: the record was not read from storage", d.where(ns, key))
	}
	data, kind, idx, chunks, err := d.layout(r)
	if err != nil {
		return err
	}
	if idx != nil {
		if err := d.writeChunks(ctx, ns, r, idx, chunks); err != nil {
			return err
		}
	}
	obj := &object{Name: key, Namespace: ns, Labels: d.labels(r), Annotations: metaAnnotations(r), Data: data, ResourceVersion: r.storageVersion}
	obj.Annotations[annPayload] = kind
	obj.Annotations[annCompression] = string(d.opts.Compression)
	if idx != nil {
		obj.Annotations[annChunkGen] = idx.Gen
	}
	var rv string
	err = retryWrite(ctx, func() error {
		var e error
		rv, e = d.objects.Update(ctx, obj)
		return e
	}, apierrors.IsConflict, func() bool {
		cur, e := d.objects.Get(ctx, ns, key)
		if e != nil || !sameData(cur.Data, obj.Data) || cur.Labels[labelStatus] != obj.Labels[labelStatus] {
			return false
		}
		rv = cur.ResourceVersion
		return true
	})
	if err != nil {
		if idx != nil {
			_ = d.deleteChunks(context.WithoutCancel(ctx), r.Namespace, r.Name, r.Revision, idx.Gen)
		}
		if apierrors.IsConflict(err) {
			return &ConflictError{Object: d.where(ns, key), Err: err}
		}
		if apierrors.IsNotFound(err) {
			return &NotFoundError{Namespace: r.Namespace, Name: r.Name, Revision: r.Revision}
		}
		return fmt.Errorf("update %s: %w", d.where(ns, key), err)
	}
	r.storageVersion = rv
	// The chunks of the previous content are garbage now (none if it was inline and is inline).
	if idx != nil || r.chunked {
		keep := ""
		if idx != nil {
			keep = idx.Gen
		}
		if err := d.deleteChunksExcept(ctx, r.Namespace, r.Name, r.Revision, keep); err != nil {
			return err
		}
	}
	r.chunked = idx != nil
	return nil
}

func (d *kubeDriver) writeChunks(ctx context.Context, ns string, r *Release, idx *chunkIndex, chunks [][]byte) error {
	errs := make([]error, len(chunks))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i, c := range chunks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			obj := &object{Name: chunkName(d.key(r.Namespace, r.Name, r.Revision), idx.Gen, i), Namespace: ns,
				Labels: d.chunkLabels(r, idx.Gen),
				Data:   map[string][]byte{"chunk": c}}
			err := retryWrite(ctx, func() error { _, e := d.objects.Create(ctx, obj); return e }, apierrors.IsAlreadyExists, func() bool {
				cur, e := d.objects.Get(ctx, ns, obj.Name)
				return e == nil && sameData(cur.Data, obj.Data)
			})
			if err != nil {
				errs[i] = fmt.Errorf("store chunk %s: %w", d.where(ns, obj.Name), err)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		_ = d.deleteChunks(context.WithoutCancel(ctx), r.Namespace, r.Name, r.Revision, idx.Gen)
		return err
	}
	return nil
}

func (d *kubeDriver) chunkLabels(r *Release, gen string) map[string]string {
	l := map[string]string{labelOwner: ownerChunk, labelName: r.Name, labelVersion: strconv.Itoa(r.Revision), labelChunkGen: gen}
	if d.opts.Namespace != "" {
		l[labelReleaseNamespace] = r.Namespace
	}
	return l
}

func (d *kubeDriver) chunkSelector(namespace, name string, rev int) string {
	sel := fmt.Sprintf("%s=%s,%s=%s,%s=%d", labelOwner, ownerChunk, labelName, name, labelVersion, rev)
	if d.opts.Namespace != "" {
		sel += "," + labelReleaseNamespace + "=" + namespace
	}
	return sel
}

// deleteChunks removes the chunks of a revision: of one generation, or all when gen is "".
func (d *kubeDriver) deleteChunks(ctx context.Context, namespace, name string, rev int, gen string) error {
	sel := d.chunkSelector(namespace, name, rev)
	if gen != "" {
		sel += "," + labelChunkGen + "=" + gen
	}
	return d.deleteSelected(ctx, d.ns(namespace), sel, "")
}

func (d *kubeDriver) deleteChunksExcept(ctx context.Context, namespace, name string, rev int, keepGen string) error {
	return d.deleteSelected(ctx, d.ns(namespace), d.chunkSelector(namespace, name, rev), keepGen)
}

func (d *kubeDriver) deleteSelected(ctx context.Context, ns, selector, keepGen string) error {
	list, err := d.meta.Resource(d.gvr).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return fmt.Errorf("list chunks in %s: %w", ns, err)
	}
	var errs []error
	for _, m := range list.Items {
		if keepGen != "" && m.Labels[labelChunkGen] == keepGen {
			continue
		}
		if err := d.objects.Delete(ctx, ns, m.Name); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete chunk %s: %w", d.where(ns, m.Name), err))
		}
	}
	return errors.Join(errs...)
}

// SweepChunks deletes the chunks of a release that no record points to: leftovers of a write
// that was interrupted (a process killed, an API server gone) after some chunks were created or
// before the previous generation was deleted. Two metadata lists; the caller holds the lock.
func (d *kubeDriver) SweepChunks(ctx context.Context, namespace, name string) error {
	ns := d.ns(namespace)
	recSel := labelOwner + "=" + ownerRelease + "," + labelName + "=" + name
	chunkSel := labelOwner + "=" + ownerChunk + "," + labelName + "=" + name
	if d.opts.Namespace != "" {
		recSel += "," + labelReleaseNamespace + "=" + namespace
		chunkSel += "," + labelReleaseNamespace + "=" + namespace
	}
	chunks, err := d.meta.Resource(d.gvr).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: chunkSel})
	if err != nil || len(chunks.Items) == 0 {
		return err
	}
	recs, err := d.meta.Resource(d.gvr).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: recSel})
	if err != nil {
		return err
	}
	// The generation each stored revision points to; "" for a record kept whole (no chunks);
	// unknown revisions (chunked by a writer that did not say which generation) are left alone.
	gens, unknown := map[string]string{}, map[string]bool{}
	for _, m := range recs.Items {
		v := m.Labels[labelVersion]
		switch gen, kind := m.Annotations[annChunkGen], m.Annotations[annPayload]; {
		case gen != "":
			gens[v] = gen
		case kind == "inline":
			gens[v] = ""
		default:
			unknown[v] = true
		}
	}
	var errs []error
	for _, c := range chunks.Items {
		v := c.Labels[labelVersion]
		if unknown[v] {
			continue
		}
		if gen, stored := gens[v]; stored && gen != "" && gen == c.Labels[labelChunkGen] {
			continue
		}
		if err := d.objects.Delete(ctx, ns, c.Name); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete leftover chunk %s: %w", d.where(ns, c.Name), err))
		}
	}
	return errors.Join(errs...)
}

func (d *kubeDriver) Get(ctx context.Context, namespace, name string, revision int) (*Release, error) {
	ns, key := d.ns(namespace), d.key(namespace, name, revision)
	obj, err := d.objects.Get(ctx, ns, key)
	if apierrors.IsNotFound(err) {
		return nil, &NotFoundError{Namespace: namespace, Name: name, Revision: revision}
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", d.where(ns, key), err)
	}
	r, chunked, err := d.decodeObject(ctx, obj)
	if err != nil && chunked && IsCorrupt(err) {
		// A writer may have swapped the chunk generation between our read of the index and of
		// its chunks: read once more if the record changed meanwhile.
		again, gerr := d.objects.Get(ctx, ns, key)
		if gerr == nil && again.ResourceVersion != obj.ResourceVersion {
			obj = again
			r, chunked, err = d.decodeObject(ctx, obj)
		}
	}
	if err != nil {
		return nil, err
	}
	r.storageVersion, r.chunked = obj.ResourceVersion, chunked
	return r, nil
}

func (d *kubeDriver) decodeObject(ctx context.Context, obj *object) (*Release, bool, error) {
	where := d.where(obj.Namespace, obj.Name)
	rawIdx, chunked := obj.Data["index"]
	if !chunked {
		payload, ok := obj.Data["release"]
		if !ok {
			return nil, false, &CorruptError{Object: where, Err: errors.New("no release data")}
		}
		r, err := Decode(payload, where)
		return r, false, err
	}
	var idx chunkIndex
	if err := json.Unmarshal(rawIdx, &idx); err != nil || idx.Chunks < 1 || idx.Size < 0 || idx.Chunks > 4096 || idx.Gen == "" ||
		idx.Size > idx.Chunks*objectDataLimit {
		return nil, true, &CorruptError{Object: where, Err: fmt.Errorf("bad chunk index %q", truncate(string(rawIdx), 200))}
	}
	big, err := d.readChunks(ctx, obj, &idx)
	if err != nil {
		return nil, true, err
	}
	switch idx.Part {
	case "release":
		r, err := Decode(big, where)
		return r, true, err
	case "manifest":
		r, err := Decode(obj.Data["release"], where)
		if err != nil {
			return nil, true, err
		}
		m, err := Decompress(big)
		if err != nil {
			return nil, true, &CorruptError{Object: where, Err: fmt.Errorf("manifest: %w", err)}
		}
		r.Manifest = string(m)
		return r, true, nil
	}
	return nil, true, &CorruptError{Object: where, Err: fmt.Errorf("chunk index part %q unknown", idx.Part)}
}

func (d *kubeDriver) readChunks(ctx context.Context, idxObj *object, idx *chunkIndex) ([]byte, error) {
	where := d.where(idxObj.Namespace, idxObj.Name)
	parts := make([][]byte, idx.Chunks)
	errs := make([]error, idx.Chunks)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			name := chunkName(idxObj.Name, idx.Gen, i)
			obj, err := d.objects.Get(ctx, idxObj.Namespace, name)
			if err != nil {
				errs[i] = &CorruptError{Object: where, Err: fmt.Errorf("chunk %d of %d (%s): %w", i+1, idx.Chunks, name, err)}
				return
			}
			parts[i] = obj.Data["chunk"]
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	total := 0
	for _, p := range parts {
		total += len(p)
	}
	big := make([]byte, 0, total) // what was read, not what the index claims
	for _, p := range parts {
		big = append(big, p...)
	}
	sum := sha256.Sum256(big)
	if len(big) != idx.Size || hex.EncodeToString(sum[:]) != idx.SHA256 {
		return nil, &CorruptError{Object: where, Err: fmt.Errorf("chunks add up to %d bytes with sha256 %x; the index says %d bytes, %s", len(big), sum[:6], idx.Size, truncate(idx.SHA256, 12))}
	}
	return big, nil
}

func (d *kubeDriver) List(ctx context.Context, namespace, name string) ([]Meta, error) {
	sel := labelOwner + "=" + ownerRelease
	if name != "" {
		sel += "," + labelName + "=" + name
	}
	ns := namespace
	if d.opts.Namespace != "" {
		ns = d.opts.Namespace
		if namespace != "" {
			sel += "," + labelReleaseNamespace + "=" + namespace
		}
	}
	var out []Meta
	opts := metav1.ListOptions{LabelSelector: sel, Limit: 5000}
	for {
		list, err := d.meta.Resource(d.gvr).Namespace(ns).List(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("list release records (%s, namespace %q): %w", d.name, ns, err)
		}
		for _, m := range list.Items {
			if meta, ok := metaFromObject(m.Namespace, m.Labels, m.Annotations, d.name); ok {
				if rn := m.Labels[labelReleaseNamespace]; rn != "" {
					meta.Namespace = rn
				}
				out = append(out, meta)
			}
		}
		if list.Continue == "" {
			break
		}
		opts.Continue = list.Continue
	}
	SortMetas(out)
	return out, nil
}

// labelReleaseNamespace is set when records live in a shared storage namespace.
const labelReleaseNamespace = "sherpack.io/release-namespace"

func (d *kubeDriver) Delete(ctx context.Context, namespace, name string, revision int) error {
	ns, key := d.ns(namespace), d.key(namespace, name, revision)
	err := retryWrite(ctx, func() error { return d.objects.Delete(ctx, ns, key) }, apierrors.IsNotFound, func() bool { return true })
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete %s: %w", d.where(ns, key), err)
	}
	return d.deleteChunks(ctx, namespace, name, revision, "")
}

func randomGen() (string, error) {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func sameData(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !bytes.Equal(v, b[k]) {
			return false
		}
	}
	return true
}
