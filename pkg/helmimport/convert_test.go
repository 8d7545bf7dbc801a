package helmimport

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/sherpack/kubectl-sherpack/pkg/apply"
	"github.com/sherpack/kubectl-sherpack/pkg/manifest"
	"github.com/sherpack/kubectl-sherpack/pkg/releases"
)

// testScope knows the kinds of the fixtures; ClusterRole is cluster-scoped.
func testScope(gvk schema.GroupVersionKind) (bool, bool) {
	switch gvk.Kind {
	case "ClusterRole":
		return false, true
	case "Widget":
		return false, false
	}
	return true, true
}

func fixtureRecord(t *testing.T, version int, status string) *Record {
	t.Helper()
	rec, err := DecodePayload(helmPayload(t, readFixture(t), true), "Secret shop-ns/"+RecordName("shop", version))
	if err != nil {
		t.Fatal(err)
	}
	rec.Version, rec.Status = version, status
	return rec
}

func TestConvert(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	recs := []*Record{fixtureRecord(t, 1, "superseded"), fixtureRecord(t, 2, "deployed")}
	recs[0].Description = "Install complete"
	recs[1].Labels = map[string]string{"team": "payments"}
	c, err := Convert(recs, testScope, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Releases) != 2 {
		t.Fatalf("%d revisions", len(c.Releases))
	}
	r1, r2 := c.Releases[0], c.Releases[1]
	if r1.Revision != 1 || r1.State != releases.StateSuperseded || r1.Description != "Install complete" {
		t.Fatalf("revision 1: %d %s %q", r1.Revision, r1.State, r1.Description)
	}
	if r2.Revision != 2 || r2.State != releases.StateDeployed || r2.Description != "Upgrade complete" || r2.Notes != "Visit http://shop.example.com\n" {
		t.Fatalf("revision 2: %d %s %q %q", r2.Revision, r2.State, r2.Description, r2.Notes)
	}
	if r2.Pack != (releases.PackInfo{Name: "shop", Version: "1.2.3", AppVersion: "4.5.6", Description: "A shop"}) {
		t.Fatalf("pack: %+v", r2.Pack)
	}
	if want := time.Date(2026, 11, 30, 11, 30, 0, 500_000_000, time.UTC); !r2.CreatedAt.Equal(want) || !r2.UpdatedAt.Equal(want) {
		t.Fatalf("times: %v %v", r2.CreatedAt, r2.UpdatedAt)
	}
	if r2.Imported == nil || r2.Imported.From != "helm" || r2.Imported.Object != "Secret shop-ns/sh.helm.release.v1.shop.v2" || r2.Imported.Status != "deployed" || !r2.Imported.At.Equal(now) {
		t.Fatalf("imported: %+v", r2.Imported)
	}
	if r2.Labels["team"] != "payments" {
		t.Fatalf("labels: %v", r2.Labels)
	}
	// User values as the user gave them (the null too); merged values are Helm's coalescing.
	if r2.UserValues["replicaCount"] != int64(3) || r2.UserValues["image"].(map[string]any)["tag"] != "1.28" {
		t.Fatalf("user values: %#v", r2.UserValues)
	}
	img := r2.Values["image"].(map[string]any)
	if r2.Values["replicaCount"] != int64(3) || img["tag"] != "1.28" || img["repository"] != "nginx" {
		t.Fatalf("merged values: %#v", r2.Values)
	}
	if _, ok := r2.Values["extra"]; ok {
		t.Fatalf("a null user value must delete the default: %#v", r2.Values)
	}
	if p := r2.Provenance["image.tag"]; p.Kind != "previous-release" || !strings.Contains(p.Source, "Helm revision 2") {
		t.Fatalf("provenance of image.tag: %+v", p)
	}
	if p := r2.Provenance["image.repository"]; p.Kind != "pack-default" || !strings.Contains(p.Source, "shop-1.2.3") {
		t.Fatalf("provenance of image.repository: %+v", p)
	}

	objs, err := manifest.Decode([]byte(r2.Manifest), "stored")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 3 || len(c.Objects[2]) != 3 {
		t.Fatalf("%d objects stored, %d decoded", len(objs), len(c.Objects[2]))
	}
	byKind := map[string]*manifest.Object{}
	for _, o := range objs {
		byKind[o.GetKind()] = o
		l := o.GetLabels()
		if l[apply.LabelManagedBy] != "sherpack" || l[apply.LabelReleaseName] != "shop" || l[apply.LabelReleaseNamespace] != "shop-ns" {
			t.Errorf("%s: our release labels are missing: %v", o.GetKind(), l)
		}
	}
	// Namespaced objects without a namespace get the release's; cluster-scoped ones lose one.
	if ns := byKind["Deployment"].GetNamespace(); ns != "shop-ns" {
		t.Fatalf("Deployment namespace %q", ns)
	}
	if ns := byKind["ClusterRole"].GetNamespace(); ns != "" {
		t.Fatalf("ClusterRole namespace %q", ns)
	}
	if !strings.Contains(r2.Manifest, "# Source: shop/templates/deployment.yaml") {
		t.Fatalf("the template each object came from is kept:\n%s", r2.Manifest)
	}
	if c.Objects[2][2].Source != "shop/templates/deployment.yaml" {
		t.Fatalf("source %q", c.Objects[2][2].Source)
	}

	if len(r2.Hooks) != 1 {
		t.Fatalf("hooks: %+v", r2.Hooks)
	}
	h := r2.Hooks[0]
	if h.Name != "shop-migrate" || h.Kind != "Job" || strings.Join(h.Phases, ",") != "pre-install,pre-upgrade" || h.Weight != -5 {
		t.Fatalf("hook: %+v", h)
	}
	if h.LastRun == nil || h.LastRun.Result != "succeeded" || h.LastRun.Phase != "pre-upgrade" || h.LastRun.Finished.Sub(h.LastRun.Started) != 8*time.Second {
		t.Fatalf("hook last run: %+v", h.LastRun)
	}
	if hr1 := r1.Hooks[0].LastRun; hr1 == nil || hr1.Phase != "pre-install" {
		t.Fatalf("revision 1's hook ran as pre-install: %+v", hr1)
	}
	hobjs, err := manifest.Decode([]byte(h.Manifest), "hook")
	if err != nil || len(hobjs) != 1 {
		t.Fatalf("hook manifest: %v %d", err, len(hobjs))
	}
	if a, _ := manifest.ParseAnnotations(hobjs[0]); strings.Join(a.HookPhases, ",") != "pre-install,pre-upgrade" {
		t.Fatalf("hook annotations read back: %+v", a)
	}
}

func TestConvertStates(t *testing.T) {
	tests := []struct {
		name     string
		statuses []string
		want     []releases.State
		reason   string
	}{
		{"history", []string{"superseded", "superseded", "deployed"}, []releases.State{releases.StateSuperseded, releases.StateSuperseded, releases.StateDeployed}, ""},
		{"failed upgrade on top", []string{"deployed", "failed"}, []releases.State{releases.StateDeployed, releases.StateFailed}, "Upgrade complete"},
		// Helm can leave two revisions deployed: only the newest stays so.
		{"two deployed", []string{"deployed", "deployed"}, []releases.State{releases.StateSuperseded, releases.StateDeployed}, ""},
		{"pending under a newer one", []string{"deployed", "pending-upgrade", "deployed"}, []releases.State{releases.StateSuperseded, releases.StateFailed, releases.StateDeployed}, "interrupted"},
		{"unknown", []string{"unknown", "deployed"}, []releases.State{releases.StateFailed, releases.StateDeployed}, "unknown"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var recs []*Record
			for i, s := range tc.statuses {
				recs = append(recs, fixtureRecord(t, i+1, s))
			}
			c, err := Convert(recs, testScope, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range c.Releases {
				if r.State != tc.want[i] {
					t.Errorf("revision %d: %s, want %s", r.Revision, r.State, tc.want[i])
				}
				if r.State == releases.StateFailed && !strings.Contains(r.Reason, tc.reason) {
					t.Errorf("revision %d: reason %q, want it to say %q", r.Revision, r.Reason, tc.reason)
				}
			}
		})
	}
}

func TestConvertUnknownKind(t *testing.T) {
	rec := fixtureRecord(t, 1, "deployed")
	rec.Manifest = "---\n# Source: x/templates/w.yaml\napiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n"
	c, err := Convert([]*Record{rec}, testScope, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "Widget") {
		t.Fatalf("warnings: %v", c.Warnings)
	}
	if ns := c.Objects[1][0].GetNamespace(); ns != "" {
		t.Fatalf("an object of an unknown kind is kept as recorded, got namespace %q", ns)
	}
}

func TestConvertBadManifest(t *testing.T) {
	rec := fixtureRecord(t, 1, "deployed")
	rec.Manifest = "---\n# Source: x/templates/bad.yaml\nkind: [\n"
	if _, err := Convert([]*Record{rec}, testScope, time.Now()); err == nil || !strings.Contains(err.Error(), "revision 1") {
		t.Fatalf("error %v, want one naming the revision", err)
	}
}

func TestImportable(t *testing.T) {
	tests := []struct {
		statuses []string
		want     string // "" = importable
	}{
		{[]string{"superseded", "deployed"}, ""},
		{[]string{"deployed", "failed"}, ""},
		{[]string{"superseded", "deployed", "pending-upgrade"}, "helm rollback shop 2 -n shop-ns"},
		{[]string{"deployed", "pending-rollback"}, "kubectl delete secret sh.helm.release.v1.shop.v2 -n shop-ns"},
		{[]string{"pending-install"}, "helm uninstall shop -n shop-ns"},
		{[]string{"deployed", "uninstalling"}, "helm uninstall shop -n shop-ns"},
		{[]string{"deployed", "uninstalled"}, "kubectl sherpack install shop"},
	}
	for _, tc := range tests {
		var recs []*Record
		for i, s := range tc.statuses {
			r := fixtureRecord(t, i+1, s)
			r.Kind, r.ObjNamespace, r.ObjName = "Secret", "shop-ns", RecordName("shop", i+1)
			recs = append(recs, r)
		}
		err := Importable(recs)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%v: %v", tc.statuses, err)
			}
			continue
		}
		var se *StateError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "nothing was changed") {
			t.Errorf("%v: error %v, want a StateError saying %q", tc.statuses, err, tc.want)
		}
	}
}

func TestReadRecords(t *testing.T) {
	js := readFixture(t)
	secret := func(name, version, status string, payload []byte, typ corev1.SecretType) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop-ns", ResourceVersion: "7",
			Labels: map[string]string{"owner": "helm", "name": "shop", "version": version, "status": status, "modifiedAt": "1", "team": "payments"}},
			Type: typ, Data: map[string][]byte{"release": payload}}
	}
	v1 := strings.Replace(string(js), `"version": 2`, `"version": 1`, 1)
	cs := fake.NewClientset(
		secret(RecordName("shop", 2), "2", "deployed", helmPayload(t, js, true), SecretType),
		secret(RecordName("shop", 1), "1", "superseded", helmPayload(t, []byte(v1), true), SecretType),
		secret("sh.helm.release.v1.shop.v3", "3", "deployed", []byte("x"), "Opaque"), // not a Helm record type
	)
	recs, err := ReadRecords(context.Background(), cs, StorageSecret, "shop-ns", "shop")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Version != 1 || recs[1].Version != 2 {
		t.Fatalf("records: %d", len(recs))
	}
	if recs[1].Labels["team"] != "payments" || recs[1].Labels["modifiedAt"] != "" {
		t.Fatalf("labels: %v", recs[1].Labels)
	}
	if recs[1].Object != "Secret shop-ns/sh.helm.release.v1.shop.v2" || recs[1].ResourceVersion != "7" {
		t.Fatalf("object: %q %q", recs[1].Object, recs[1].ResourceVersion)
	}

	// A record whose label says pending is treated as pending, whatever its payload says.
	cs = fake.NewClientset(secret(RecordName("shop", 2), "2", "pending-upgrade", helmPayload(t, js, true), SecretType))
	recs, err = ReadRecords(context.Background(), cs, StorageSecret, "shop-ns", "shop")
	if err != nil || recs[0].Status != "pending-upgrade" {
		t.Fatalf("status %v %v", recs, err)
	}

	// Payload and label disagreeing on the revision: refused.
	cs = fake.NewClientset(secret(RecordName("shop", 2), "5", "deployed", helmPayload(t, js, true), SecretType))
	if _, err := ReadRecords(context.Background(), cs, StorageSecret, "shop-ns", "shop"); err == nil || !strings.Contains(err.Error(), "version label says 5") {
		t.Fatalf("error %v", err)
	}

	_, err = ReadRecords(context.Background(), fake.NewClientset(), StorageCM, "shop-ns", "shop")
	var nf *NotFoundError
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), "ConfigMap named sh.helm.release.v1.shop.v<N>") || !strings.Contains(err.Error(), "--helm-storage secret") {
		t.Fatalf("not found: %v", err)
	}
}

func TestReadRecordsConfigMaps(t *testing.T) {
	js := readFixture(t)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: RecordName("shop", 2), Namespace: "shop-ns",
		Labels: map[string]string{"owner": "helm", "name": "shop", "version": "2", "status": "deployed"}},
		Data: map[string]string{"release": string(helmPayload(t, js, true))}}
	recs, err := ReadRecords(context.Background(), fake.NewClientset(cm), StorageCM, "shop-ns", "shop")
	if err != nil || len(recs) != 1 || recs[0].Kind != "ConfigMap" || recs[0].Chart.Name != "shop" {
		t.Fatalf("%v %+v", err, recs)
	}
	done, err := DeleteRecords(context.Background(), fake.NewClientset(cm), recs)
	if err != nil || len(done) != 1 {
		t.Fatalf("delete: %v %v", done, err)
	}
}
