package releases

import (
	"context"
	"sort"
	"strconv"
	"time"
)

// Driver stores revisions. Implementations: Secrets, ConfigMaps, files, memory.
type Driver interface {
	// Name is the driver's name as --storage spells it.
	Name() string
	// Create stores a new revision; an existing one gives an ExistsError.
	Create(ctx context.Context, r *Release) error
	// Update replaces a revision read earlier; if it changed since, a ConflictError.
	Update(ctx context.Context, r *Release) error
	// Get reads and decodes one revision; a NotFoundError if there is none.
	Get(ctx context.Context, namespace, name string, revision int) (*Release, error)
	// List returns the metadata of stored revisions without decoding any payload: of one release
	// when name is set, of every release otherwise; namespace "" means all namespaces.
	List(ctx context.Context, namespace, name string) ([]Meta, error)
	// Delete removes one revision (and its chunks); a missing one is not an error.
	Delete(ctx context.Context, namespace, name string, revision int) error
	// Lock takes the release lock for h, failing with a LockedError while another holder renews it.
	Lock(ctx context.Context, namespace, name string, h Holder, ttl time.Duration) (Lock, error)
}

// Lock is a held release lock.
type Lock interface {
	// Renew extends the lease; an error means the lock was lost and the operation must stop.
	Renew(ctx context.Context) error
	// Release gives the lock up.
	Release(ctx context.Context) error
	// Expired is the holder whose lock had expired when this one was taken over, if any:
	// its pending revision must be marked failed before going on.
	Expired() *Holder
}

// Meta is one revision as list and history show it: read from labels and annotations only.
type Meta struct {
	Name        string    `json:"name"`
	Namespace   string    `json:"namespace"`
	Revision    int       `json:"revision"`
	State       State     `json:"status"`
	Pack        string    `json:"pack,omitempty"`
	PackVersion string    `json:"packVersion,omitempty"`
	AppVersion  string    `json:"appVersion,omitempty"`
	Description string    `json:"description,omitempty"`
	Updated     time.Time `json:"updated"`
	Storage     string    `json:"storage"`
	// Labels are the user's labels of the release (--labels), as the record carries them.
	Labels map[string]string `json:"labels,omitempty"`
}

// MetaOf is the metadata of a decoded release.
func MetaOf(r *Release, driver string) Meta {
	return Meta{Name: r.Name, Namespace: r.Namespace, Revision: r.Revision, State: r.State,
		Pack: r.Pack.Name, PackVersion: r.Pack.Version, AppVersion: r.Pack.AppVersion,
		Description: describe(r), Updated: r.UpdatedAt, Storage: driver, Labels: UserLabels(r.Labels)}
}

func describe(r *Release) string {
	if r.State == StateFailed && r.Reason != "" {
		return r.Reason
	}
	return r.Description
}

// Labels and annotations on storage objects: what list and history read instead of payloads.
const (
	labelOwner   = "owner"
	labelName    = "name"
	labelVersion = "version"
	labelStatus  = "status"
	ownerRelease = "sherpack"
	ownerChunk   = "sherpack-chunk"

	annPack        = "sherpack.io/pack"
	annPackVersion = "sherpack.io/pack-version"
	annAppVersion  = "sherpack.io/app-version"
	annUpdated     = "sherpack.io/updated"
	annDescription = "sherpack.io/description"
	annPayload     = "sherpack.io/payload"
	annCompression = "sherpack.io/compression"
	// annChunkGen on a chunked record names the generation of chunks its index points to, so
	// that leftovers can be told from metadata alone.
	annChunkGen   = "sherpack.io/chunk-gen"
	labelChunkGen = "sherpack.io/chunk-gen"

	maxDescriptionAnnotation = 1024
)

func metaLabels(r *Release) map[string]string {
	return withUserLabels(map[string]string{labelOwner: ownerRelease, labelName: r.Name,
		labelVersion: strconv.Itoa(r.Revision), labelStatus: string(r.State)}, r.Labels)
}

func metaAnnotations(r *Release) map[string]string {
	d := describe(r)
	if len(d) > maxDescriptionAnnotation {
		d = d[:maxDescriptionAnnotation-3] + "..."
	}
	a := map[string]string{annPack: r.Pack.Name, annPackVersion: r.Pack.Version,
		annUpdated: r.UpdatedAt.UTC().Format(time.RFC3339Nano)}
	if r.Pack.AppVersion != "" {
		a[annAppVersion] = r.Pack.AppVersion
	}
	if d != "" {
		a[annDescription] = d
	}
	return a
}

// metaFromObject reads a Meta back from an object's labels and annotations; ok is false for
// objects that are not release records.
func metaFromObject(namespace string, labels, ann map[string]string, driver string) (Meta, bool) {
	if labels[labelOwner] != ownerRelease {
		return Meta{}, false
	}
	rev, err := strconv.Atoi(labels[labelVersion])
	if err != nil || rev < 1 || labels[labelName] == "" {
		return Meta{}, false
	}
	updated, _ := time.Parse(time.RFC3339Nano, ann[annUpdated])
	return Meta{Name: labels[labelName], Namespace: namespace, Revision: rev, State: State(labels[labelStatus]),
		Pack: ann[annPack], PackVersion: ann[annPackVersion], AppVersion: ann[annAppVersion],
		Description: ann[annDescription], Updated: updated, Storage: driver, Labels: UserLabels(labels)}, true
}

// SortMetas orders by namespace, name, then revision ascending.
func SortMetas(ms []Meta) {
	sort.Slice(ms, func(i, j int) bool {
		a, b := ms[i], ms[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Revision < b.Revision
	})
}
