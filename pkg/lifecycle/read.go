package lifecycle

import (
	"context"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/sherpack/kubectl-sherpack/pkg/health"
	"github.com/sherpack/kubectl-sherpack/pkg/manifest"
	"github.com/sherpack/kubectl-sherpack/pkg/releases"
)

// List is the latest revision of each release (metadata only).
func (c *Client) List(ctx context.Context, o releases.ListOptions) ([]releases.Meta, error) {
	return c.Store.List(ctx, o)
}

// History is every stored revision of a release (metadata only).
func (c *Client) History(ctx context.Context, namespace, name string, maxN int) ([]releases.Meta, error) {
	h, err := c.Store.History(ctx, namespace, name)
	if err != nil {
		return nil, err
	}
	if maxN > 0 && len(h) > maxN {
		h = h[len(h)-maxN:]
	}
	return h, nil
}

// Get reads one revision (0: the latest).
func (c *Client) Get(ctx context.Context, namespace, name string, revision int) (*releases.Release, error) {
	if revision > 0 {
		return c.Store.Get(ctx, namespace, name, revision)
	}
	return c.Store.Latest(ctx, namespace, name)
}

// ResourceStatus is one object of a release and its health now.
type ResourceStatus struct {
	Key     manifest.Key `json:"-"`
	Object  string       `json:"object"`
	Status  string       `json:"status"`
	Message string       `json:"message,omitempty"`
}

// Resources reads each object of a revision from the cluster and judges it with kstatus.
func (c *Client) Resources(ctx context.Context, r *releases.Release) ([]ResourceStatus, error) {
	objs, err := decodeManifest(r)
	if err != nil {
		return nil, err
	}
	out := make([]ResourceStatus, len(objs))
	parallel(len(objs), 16, func(i int) {
		o := objs[i]
		cp := o.DeepCopy()
		ri, _, err := c.Apply.Resource(cp, r.Namespace)
		k := normKey(o, r.Namespace)
		out[i] = ResourceStatus{Key: k, Object: k.String()}
		if err != nil {
			out[i].Status, out[i].Message = "Unknown", err.Error()
			return
		}
		live, err := ri.Get(ctx, cp.GetName(), getOpts)
		if err != nil {
			out[i].Status, out[i].Message = "NotFound", firstLineOf(err.Error())
			return
		}
		s := health.Judge(live)
		out[i].Status, out[i].Message = string(s.Status), s.Message
	})
	return out, nil
}

// Recover marks an interrupted operation's pending revision failed (see releases.Store.Recover).
func (c *Client) Recover(ctx context.Context, namespace, name string, force bool) (*releases.Release, error) {
	return c.Store.Recover(ctx, namespace, name, force)
}

// FindStale lists releases whose operation died (pending, nobody holds the lock).
func (c *Client) FindStale(ctx context.Context, namespace string) ([]releases.Meta, error) {
	return c.Store.FindStale(ctx, namespace)
}

// AsUnstructured turns metadata into objects for kubectl's printers (-o json|yaml|jsonpath...).
func AsUnstructured(m releases.Meta) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "sherpack.io/v1", "kind": "Release",
		"metadata": map[string]any{"name": m.Name, "namespace": m.Namespace},
		"revision": int64(m.Revision), "status": string(m.State), "pack": m.Pack, "packVersion": m.PackVersion,
		"appVersion": m.AppVersion, "description": m.Description, "updated": m.Updated.UTC().Format("2006-01-02T15:04:05Z"),
		"storage": m.Storage,
	}}
	return u
}

func firstLineOf(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return s[:i]
		}
	}
	return s
}
