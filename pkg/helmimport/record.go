// Package helmimport adopts a live Helm release: it reads Helm's release records (decoded by
// our own code, never Helm's libraries), converts them into sherpack revisions with the same
// numbers, and takes the release's objects over without changing them (our labels added, field
// ownership moved from Helm's field managers to sherpack's).
package helmimport

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/sherpack/kubectl-sherpack/pkg/pack"
)

// Helm's storage: one object per revision, named sh.helm.release.v1.<name>.v<revision>, labelled
// owner=helm, name=<release>, version=<revision>, status=<status>; the payload under "release" is
// base64 of (gzip of) the release JSON.
const (
	SecretType     = "helm.sh/release.v1"
	recordPrefix   = "sh.helm.release.v1."
	payloadKey     = "release"
	StorageSecret  = "secret"
	StorageCM      = "configmap"
	maxPayloadSize = 256 << 20 // a decoded release beyond this is refused, not read into memory
)

// helmSystemLabels are the labels Helm's storage sets itself; the others on a record are the
// release's own labels (helm install --labels).
var helmSystemLabels = map[string]bool{"owner": true, "name": true, "status": true, "version": true, "createdAt": true, "modifiedAt": true}

// Record is one revision of a Helm release, as Helm stored it.
type Record struct {
	Name        string
	Namespace   string
	Version     int
	Status      string
	Description string
	// FirstDeployed is when the release was first deployed; LastDeployed when this revision was.
	FirstDeployed, LastDeployed time.Time
	Notes                       string
	Chart                       ChartMeta
	// ChartValues are the chart's values.yaml; Config what the user supplied.
	ChartValues map[string]any
	Config      map[string]any
	Manifest    string
	Hooks       []Hook
	ApplyMethod string // "ssa", "csa" or "" (client-side)
	// Labels are the release's own labels, from the record object.
	Labels map[string]string

	// Object names the storage object ("Secret prod/sh.helm.release.v1.shop.v2"); Kind, ObjName
	// and ResourceVersion identify it for a later delete.
	Object          string
	Kind            string
	ObjNamespace    string
	ObjName         string
	ResourceVersion string
	Created         time.Time
}

// ChartMeta is what a record says of its chart.
type ChartMeta struct {
	Name        string `json:"name"`
	Version     string `json:"version"`
	AppVersion  string `json:"appVersion"`
	Description string `json:"description"`
}

// Hook is a hook of a Helm release and its last run.
type Hook struct {
	Name           string   `json:"name"`
	Kind           string   `json:"kind"`
	Path           string   `json:"path"`
	Manifest       string   `json:"manifest"`
	Events         []string `json:"events"`
	Weight         int      `json:"weight"`
	DeletePolicies []string `json:"delete_policies"`
	LastRun        HookRun  `json:"last_run"`
}

// HookRun is Helm's record of a hook execution.
type HookRun struct {
	StartedAt   helmTime `json:"started_at"`
	CompletedAt helmTime `json:"completed_at"`
	Phase       string   `json:"phase"` // Unknown, Running, Succeeded, Failed
}

// helmTime reads Helm's timestamps: RFC 3339, or "" / null for none (older Helm versions wrote
// empty strings).
type helmTime struct{ time.Time }

func (t *helmTime) UnmarshalJSON(b []byte) error {
	s := string(bytes.TrimSpace(b))
	if s == "null" || s == `""` {
		t.Time = time.Time{}
		return nil
	}
	var str string
	if err := json.Unmarshal(b, &str); err != nil {
		return fmt.Errorf("time: %w", err)
	}
	v, err := time.Parse(time.RFC3339Nano, str)
	if err != nil {
		return fmt.Errorf("time %q: %w", str, err)
	}
	t.Time = v
	return nil
}

// releaseJSON is the part of Helm's release JSON that import needs.
type releaseJSON struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	Version   int    `json:"version"`
	Info      *struct {
		FirstDeployed helmTime `json:"first_deployed"`
		LastDeployed  helmTime `json:"last_deployed"`
		Description   string   `json:"description"`
		Status        string   `json:"status"`
		Notes         string   `json:"notes"`
	} `json:"info"`
	Chart *struct {
		Metadata *ChartMeta     `json:"metadata"`
		Values   map[string]any `json:"values"`
	} `json:"chart"`
	Config      map[string]any `json:"config"`
	Manifest    string         `json:"manifest"`
	Hooks       []*Hook        `json:"hooks"`
	ApplyMethod string         `json:"apply_method"`
}

var gzipMagic = []byte{0x1f, 0x8b, 0x08}

// DecodePayload reads the value Helm stores under "release": base64 of the gzipped release JSON
// (or of the plain JSON, as the first Helm 3 releases wrote it).
func DecodePayload(payload []byte, where string) (*Record, error) {
	raw := make([]byte, base64.StdEncoding.DecodedLen(len(payload)))
	n, err := base64.StdEncoding.Decode(raw, bytes.TrimSpace(payload))
	if err != nil {
		return nil, fmt.Errorf("%s: the release payload is not base64: %w", where, err)
	}
	raw = raw[:n]
	if bytes.HasPrefix(raw, gzipMagic) {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("%s: the release payload is not valid gzip: %w", where, err)
		}
		defer zr.Close()
		raw, err = io.ReadAll(io.LimitReader(zr, maxPayloadSize+1))
		if err != nil {
			return nil, fmt.Errorf("%s: the release payload is not valid gzip: %w", where, err)
		}
		if len(raw) > maxPayloadSize {
			return nil, fmt.Errorf("%s: the release payload decompresses to more than %d MiB; refusing it", where, maxPayloadSize>>20)
		}
	}
	return decodeJSON(raw, where)
}

func decodeJSON(raw []byte, where string) (*Record, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // integers in values stay integers
	var rj releaseJSON
	if err := dec.Decode(&rj); err != nil {
		return nil, fmt.Errorf("%s: the release JSON cannot be read: %w", where, err)
	}
	if rj.Name == "" || rj.Version <= 0 {
		return nil, fmt.Errorf("%s: the release JSON has no name or version: not a Helm release record", where)
	}
	rec := &Record{Name: rj.Name, Namespace: rj.Namespace, Version: rj.Version, Manifest: rj.Manifest,
		ApplyMethod: rj.ApplyMethod, Object: where}
	if rj.Info != nil {
		rec.Status, rec.Description, rec.Notes = rj.Info.Status, rj.Info.Description, rj.Info.Notes
		rec.FirstDeployed, rec.LastDeployed = rj.Info.FirstDeployed.Time, rj.Info.LastDeployed.Time
	}
	if rj.Chart != nil {
		if rj.Chart.Metadata != nil {
			rec.Chart = *rj.Chart.Metadata
		}
		rec.ChartValues = normalizeValues(rj.Chart.Values)
	}
	rec.Config = normalizeValues(rj.Config)
	for _, h := range rj.Hooks {
		if h != nil {
			rec.Hooks = append(rec.Hooks, *h)
		}
	}
	return rec, nil
}

func normalizeValues(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	v, _ := pack.Normalize(m).(map[string]any)
	return v
}

// RecordName is the storage object of a Helm revision.
func RecordName(release string, revision int) string {
	return fmt.Sprintf("%s%s.v%d", recordPrefix, release, revision)
}

// NotFoundError: no Helm record of the release where they were looked for.
type NotFoundError struct {
	Name, Namespace, Storage string
}

func (e *NotFoundError) Error() string {
	other := "--helm-storage configmap (Helm run with HELM_DRIVER=configmap)"
	if e.Storage == StorageCM {
		other = "--helm-storage secret (Helm's default)"
	}
	return fmt.Sprintf("no Helm release %s in namespace %s: no %s named %s%s.v<N> labelled owner=helm. "+
		"Check the name and namespace with helm list -n %s, or try %s",
		e.Name, e.Namespace, storageKind(e.Storage), recordPrefix, e.Name, e.Namespace, other)
}

// ExitCode is 4, as for a sherpack release that is not found.
func (e *NotFoundError) ExitCode() int { return 4 }

func storageKind(storage string) string {
	if storage == StorageCM {
		return "ConfigMap"
	}
	return "Secret"
}

// NormalizeStorage reads --helm-storage: secret(s) or configmap(s).
func NormalizeStorage(s string) (string, error) {
	switch strings.ToLower(s) {
	case "", "secret", "secrets":
		return StorageSecret, nil
	case "configmap", "configmaps", "cfgmap":
		return StorageCM, nil
	}
	return "", fmt.Errorf("--helm-storage %q: must be secret or configmap (Helm's HELM_DRIVER; sql and memory are not read)", s)
}

// ReadRecords reads every revision Helm stored of a release, oldest first.
func ReadRecords(ctx context.Context, cs kubernetes.Interface, storage, namespace, name string) ([]*Record, error) {
	sel := metav1.ListOptions{LabelSelector: "owner=helm,name=" + name}
	type object struct {
		name, rv string
		labels   map[string]string
		created  time.Time
		payload  []byte
	}
	var objs []object
	switch storage {
	case StorageSecret:
		l, err := cs.CoreV1().Secrets(namespace).List(ctx, sel)
		if err != nil {
			return nil, fmt.Errorf("list Helm's release Secrets in %s: %w", namespace, err)
		}
		for _, s := range l.Items {
			if string(s.Type) != SecretType {
				continue
			}
			objs = append(objs, object{s.Name, s.ResourceVersion, s.Labels, s.CreationTimestamp.Time, s.Data[payloadKey]})
		}
	case StorageCM:
		l, err := cs.CoreV1().ConfigMaps(namespace).List(ctx, sel)
		if err != nil {
			return nil, fmt.Errorf("list Helm's release ConfigMaps in %s: %w", namespace, err)
		}
		for _, c := range l.Items {
			objs = append(objs, object{c.Name, c.ResourceVersion, c.Labels, c.CreationTimestamp.Time, []byte(c.Data[payloadKey])})
		}
	default:
		return nil, fmt.Errorf("unknown Helm storage %q", storage)
	}
	var out []*Record
	seen := map[int]string{}
	for _, o := range objs {
		if !strings.HasPrefix(o.name, recordPrefix+name+".v") {
			continue // a record of another release whose name label was changed by hand
		}
		where := fmt.Sprintf("%s %s/%s", storageKind(storage), namespace, o.name)
		rec, err := DecodePayload(o.payload, where)
		if err != nil {
			return nil, err
		}
		if rec.Name != name {
			return nil, fmt.Errorf("%s holds release %q, not %q: the record is not the one its name says", where, rec.Name, name)
		}
		if v, err := strconv.Atoi(o.labels["version"]); err == nil && v != rec.Version {
			return nil, fmt.Errorf("%s: its version label says %d, its payload revision %d", where, v, rec.Version)
		}
		if prev, dup := seen[rec.Version]; dup {
			return nil, fmt.Errorf("%s and %s both hold revision %d", prev, where, rec.Version)
		}
		seen[rec.Version] = where
		if rec.Namespace == "" {
			rec.Namespace = namespace
		}
		// Helm reads the status from the payload, and selects on the label: when they disagree and
		// the label says an operation is pending, the release is treated as pending.
		if st := o.labels["status"]; st != rec.Status && isPending(st) {
			rec.Status = st
		}
		for k, v := range o.labels {
			if !helmSystemLabels[k] {
				if rec.Labels == nil {
					rec.Labels = map[string]string{}
				}
				rec.Labels[k] = v
			}
		}
		rec.Kind, rec.ObjNamespace, rec.ObjName, rec.ResourceVersion, rec.Created = storageKind(storage), namespace, o.name, o.rv, o.created
		out = append(out, rec)
	}
	if len(out) == 0 {
		return nil, &NotFoundError{Name: name, Namespace: namespace, Storage: storage}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// DeleteRecords deletes Helm's records of a release, each only if it is still as it was read.
func DeleteRecords(ctx context.Context, cs kubernetes.Interface, recs []*Record) ([]string, error) {
	var done []string
	var errs []error
	for _, r := range recs {
		rv := r.ResourceVersion
		opts := metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: &rv}}
		var err error
		if r.Kind == "ConfigMap" {
			err = cs.CoreV1().ConfigMaps(r.ObjNamespace).Delete(ctx, r.ObjName, opts)
		} else {
			err = cs.CoreV1().Secrets(r.ObjNamespace).Delete(ctx, r.ObjName, opts)
		}
		switch {
		case err == nil, apierrors.IsNotFound(err):
			done = append(done, r.Object)
		case apierrors.IsConflict(err):
			errs = append(errs, fmt.Errorf("%s changed since it was read (Helm wrote to it?); it was not deleted", r.Object))
		default:
			errs = append(errs, fmt.Errorf("delete %s: %w", r.Object, err))
		}
	}
	return done, errors.Join(errs...)
}

// isPending tells whether a Helm status is an operation in progress (or left so by one that died).
func isPending(status string) bool {
	return strings.HasPrefix(status, "pending-") || status == "uninstalling"
}
