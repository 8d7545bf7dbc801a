// Package apply applies objects with server-side apply through a REST mapper built from
// discovery, in a planned order, and prunes and deletes them.
package apply

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/sherpack/kubectl-sherpack/pkg/manifest"
)

// FieldManager is the SSA field manager of every object sherpack applies.
const FieldManager = "sherpack"

// Client reaches the cluster: dynamic client plus a discovery-backed REST mapper, cached and
// refreshed when a kind is unknown (a CRD applied a moment ago).
type Client struct {
	Dynamic   dynamic.Interface
	Metadata  metadata.Interface
	Discovery discovery.CachedDiscoveryInterface
	mapper    *restmapper.DeferredDiscoveryRESTMapper
	mu        sync.Mutex
	// mappings remembers what the mapper answered since its last reset: a release of thousands
	// of objects asks for the same few kinds thousands of times, and each answer of the
	// discovery-backed mapper walks every group it knows. Guarded by mu.
	mappings  map[schema.GroupVersionKind]*meta.RESTMapping
	mapperGen int

	// CRDWait bounds the wait for CRDs just applied to be Established (default 60s); negative:
	// do not wait (Pack.yaml crds.waitReady: false).
	CRDWait time.Duration

	// known is what Preflight read of the objects about to be applied (nil: absent).
	known   map[manifest.Key]*metav1.PartialObjectMetadata
	knownMu sync.Mutex

	// CLIOptions: --field-manager and --force-replace (fieldmanager.go, replace.go).
	CLIOptions
}

// NewClient builds a Client from a REST config.
func NewClient(cfg *rest.Config) (*Client, error) {
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	md, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	cached := memory.NewMemCacheClient(disc)
	return &Client{Dynamic: dc, Metadata: md, Discovery: cached, mapper: restmapper.NewDeferredDiscoveryRESTMapper(cached)}, nil
}

// ResetMapper forgets discovery, so that kinds installed a moment ago are found.
func (c *Client) ResetMapper() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mapper.Reset()
	c.mappings = nil
	c.mapperGen++
}

func (c *Client) cachedMapping(gvk schema.GroupVersionKind) *meta.RESTMapping {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mappings[gvk]
}

// Mapping finds the resource of a kind, refreshing discovery once if the kind is unknown.
func (c *Client) Mapping(gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	if m := c.cachedMapping(gvk); m != nil {
		return m, nil
	}
	m, err := c.lookupMapping(gvk)
	if err != nil && meta.IsNoMatchError(err) {
		c.ResetMapper()
		m, err = c.lookupMapping(gvk)
	}
	if err != nil {
		if meta.IsNoMatchError(err) {
			return nil, &UnknownKindError{GVK: gvk}
		}
		return nil, err
	}
	return m, nil
}

// lookupMapping asks the mapper and remembers a found kind, unless the mapper was reset
// meanwhile (the answer may then be stale).
func (c *Client) lookupMapping(gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	c.mu.Lock()
	gen := c.mapperGen
	c.mu.Unlock()
	m, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if gen == c.mapperGen {
		if c.mappings == nil {
			c.mappings = map[schema.GroupVersionKind]*meta.RESTMapping{}
		}
		c.mappings[gvk] = m
	}
	c.mu.Unlock()
	return m, nil
}

// UnknownKindError: the API server does not serve the kind (its CRD is not installed, or the
// API version was retired). Other mapping errors (discovery failing) are not this.
type UnknownKindError struct{ GVK schema.GroupVersionKind }

func (e *UnknownKindError) Error() string {
	return fmt.Sprintf("the cluster has no kind %s in %s (is its CustomResourceDefinition installed?)", e.GVK.Kind, e.GVK.GroupVersion())
}

// Resource is the dynamic client of an object's resource, in its namespace; namespaced objects
// without one get defaultNS (which is written into the object).
func (c *Client) Resource(obj *unstructured.Unstructured, defaultNS string) (dynamic.ResourceInterface, *meta.RESTMapping, error) {
	m, err := c.Mapping(obj.GroupVersionKind())
	if err != nil {
		return nil, nil, err
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		if obj.GetNamespace() == "" {
			obj.SetNamespace(defaultNS)
		}
		return c.Dynamic.Resource(m.Resource).Namespace(obj.GetNamespace()), m, nil
	}
	if obj.GetNamespace() != "" {
		obj.SetNamespace("") // cluster-scoped: a namespace in the manifest means nothing
	}
	return c.Dynamic.Resource(m.Resource), m, nil
}

// ApplyOptions of one server-side apply.
type ApplyOptions struct {
	DryRun bool
	Force  bool
}

// Apply sends obj with server-side apply.
func (c *Client) Apply(ctx context.Context, obj *unstructured.Unstructured, defaultNS string, o ApplyOptions) (*unstructured.Unstructured, error) {
	ri, _, err := c.Resource(obj, defaultNS)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(obj.Object)
	if err != nil {
		return nil, err
	}
	force := o.Force
	opts := metav1.PatchOptions{FieldManager: c.fieldManager(), Force: &force}
	if o.DryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	out, err := ri.Patch(ctx, obj.GetName(), types.ApplyPatchType, body, opts)
	if err != nil {
		return c.immutable(ctx, ri, obj, body, opts, err)
	}
	return out, nil
}
