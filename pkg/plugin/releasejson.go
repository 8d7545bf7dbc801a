package plugin

import (
	"encoding/json"
	"io"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/sherpack/kubectl-sherpack/pkg/diff"
	"github.com/sherpack/kubectl-sherpack/pkg/lifecycle"
	"github.com/sherpack/kubectl-sherpack/pkg/releases"
)

// The objects printed by -o json|yaml|jsonpath|... are a contract with scripts: docs/json.md
// describes every field. Fields are only added within a version; a removal or a change of
// meaning makes a new apiVersion.
const (
	// OutputAPIVersion is the apiVersion of every object printed with -o.
	OutputAPIVersion = "sherpack.io/v1"
	// KindRelease is one release revision (status, install, upgrade, rollback, uninstall,
	// recover, test, get metadata) or its summary (list, history).
	KindRelease = "Release"
	// KindDiff is what diff -o json prints.
	KindDiff = "Diff"
)

// releaseObject is the full record of a revision as an object for kubectl's printers:
// apiVersion, kind and metadata (name, namespace) first, then the record's own fields. status
// repeats state so that one jsonpath ({.status}) reads list items and full records alike.
func releaseObject(r *releases.Release, res []lifecycle.ResourceStatus) (*unstructured.Unstructured, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	delete(m, "schemaVersion")
	m["apiVersion"] = OutputAPIVersion
	m["kind"] = KindRelease
	m["metadata"] = map[string]any{"name": r.Name, "namespace": r.Namespace}
	m["status"] = string(r.State)
	if res != nil {
		rb, _ := json.Marshal(res)
		var rr []any
		_ = json.Unmarshal(rb, &rr)
		m["resources"] = rr
	}
	return &unstructured.Unstructured{Object: m}, nil
}

// summaryObject is a list or history item: the record's metadata only, with its labels.
func summaryObject(m releases.Meta) *unstructured.Unstructured {
	u := lifecycle.AsUnstructured(m)
	if len(m.Labels) > 0 {
		l := map[string]any{}
		for k, v := range m.Labels {
			l[k] = v
		}
		u.Object["labels"] = l
	}
	return u
}

// metadataObject is `get metadata`: what identifies a revision, without values, manifest or hooks.
func metadataObject(r *releases.Release) *unstructured.Unstructured {
	m := map[string]any{
		"apiVersion": OutputAPIVersion, "kind": KindRelease,
		"metadata": map[string]any{"name": r.Name, "namespace": r.Namespace},
		"name":     r.Name, "namespace": r.Namespace, "revision": int64(r.Revision),
		"state": string(r.State), "status": string(r.State),
		"pack": r.Pack.Name, "packVersion": r.Pack.Version, "appVersion": r.Pack.AppVersion,
		"createdAt": r.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"), "updatedAt": r.UpdatedAt.UTC().Format("2006-01-02T15:04:05Z"),
	}
	if r.Description != "" {
		m["description"] = r.Description
	}
	if r.Reason != "" {
		m["reason"] = r.Reason
	}
	if len(r.Labels) > 0 {
		l := map[string]any{}
		for k, v := range r.Labels {
			l[k] = v
		}
		m["labels"] = l
	}
	return &unstructured.Unstructured{Object: m}
}

// diffDocument is diff -o json: the report with apiVersion, kind, the release and the mode.
type diffDocument struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Release    string `json:"release"`
	Namespace  string `json:"namespace"`
	Mode       string `json:"mode"`
	HasChanges bool   `json:"hasChanges"`
	*diff.Report
}

// AddResultFlags registers -o on a command that changes a release: without it a human summary
// is printed; with it the resulting release revision, through kubectl's printers.
func (f *OutputFlags) AddResultFlags(cmd *cobra.Command) {
	f.addOutput(cmd, "a human summary; with -o, the resulting release revision, see docs/json.md")
}

// Human tells whether the human summary is wanted rather than a printed object.
func (f *OutputFlags) Human() bool {
	t, _ := f.IsTable()
	return t
}

// PrintRelease prints the full record of a revision.
func (f *OutputFlags) PrintRelease(w io.Writer, r *releases.Release) error {
	u, err := releaseObject(r, nil)
	if err != nil {
		return err
	}
	return f.PrintObjects(w, []*unstructured.Unstructured{u}, true)
}
