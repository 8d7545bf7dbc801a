package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sherpack/kubectl-sherpack/internal/testenv"
	"github.com/sherpack/kubectl-sherpack/pkg/helmimport"
)

// TestHelmImport: Helm installs and upgrades a chart (two revisions); the import takes it over
// in place. Nothing but our labels and the managedFields changes on the objects, no pod is
// restarted, history and values are Helm's, drift is clean, a second import says it is done,
// and a rollback to the first imported revision works.
func TestHelmImport(t *testing.T) {
	ns := testenv.Namespace(t)
	h := newHelm(t, "secret")
	helmInstallAndUpgrade(t, h, ns, "books")
	before := settledSnapshot(t, ns)
	if len(podUIDs(before)) != 3 {
		t.Fatalf("pods before: %v", podUIDs(before))
	}

	r := mustSherpack(t, "import", "helm", "books", "-n", ns)
	for _, want := range []string{"2 revisions written", "5 objects taken over", "no pod restarted",
		"app.kubernetes.io/managed-by=sherpack (was Helm)", "helm (Apply)", "Job/" + ns + "/books-ledger-migrate (hook)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("import output lacks %q:\n%s", want, r.stdout)
		}
	}
	after := settledSnapshot(t, ns)
	checkTakeover(t, before, after, "books", ns)
	if b, a := podUIDs(before), podUIDs(after); !reflect.DeepEqual(b, a) {
		t.Errorf("pods changed with the import: %v -> %v", b, a)
	}
	if b, a := replicaSets(before), replicaSets(after); !reflect.DeepEqual(b, a) {
		t.Errorf("ReplicaSets (pod-template-hash) changed with the import: %v -> %v", b, a)
	}
	dep := "Deployment/books-ledger"
	if b, a := before[dep].GetGeneration(), after[dep].GetGeneration(); a != b {
		t.Errorf("Deployment generation %d -> %d", b, a)
	}

	// History is Helm's: same revisions, states, chart and descriptions.
	if got := history(t, ns, "books"); got != "1:superseded 2:deployed" {
		t.Fatalf("history %q", got)
	}
	hr := mustSherpack(t, "history", "books", "-n", ns)
	for _, want := range []string{"ledger-1.4.0", "2.1.0", "Install complete", "Upgrade complete"} {
		if !strings.Contains(hr.stdout, want) {
			t.Errorf("history lacks %q:\n%s", want, hr.stdout)
		}
	}
	// Helm's records are left as they are.
	if hl := h.must("history", "books", "-n", ns, "-o", "json"); !strings.Contains(hl.stdout, `"status":"deployed"`) {
		t.Errorf("helm history after the import: %s", hl.stdout)
	}

	// Values, manifest and notes are what Helm recorded.
	for _, all := range []bool{false, true} {
		hargs, sargs := []string{"get", "values", "books", "-n", ns, "-o", "json"}, []string{"get", "values", "books", "-n", ns, "-o", "json"}
		if all {
			hargs, sargs = append(hargs, "--all"), append(sargs, "--all")
		}
		var hv, sv map[string]any
		if err := json.Unmarshal([]byte(h.must(hargs...).stdout), &hv); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(mustSherpack(t, sargs...).stdout), &sv); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(hv, sv) {
			t.Errorf("get values (all=%v): sherpack %v, Helm %v", all, sv, hv)
		}
	}
	for _, rev := range []string{"1", "2"} {
		hm := manifestObjects(t, h.must("get", "manifest", "books", "-n", ns, "--revision", rev).stdout)
		sm := manifestObjects(t, mustSherpack(t, "get", "manifest", "books", "-n", ns, "--revision", rev).stdout)
		if len(hm) != 4 || !reflect.DeepEqual(hm, sm) {
			t.Errorf("get manifest --revision %s: sherpack %v\nHelm %v", rev, sm, hm)
		}
	}
	hn := strings.TrimSpace(strings.TrimPrefix(h.must("get", "notes", "books", "-n", ns).stdout, "NOTES:"))
	if sn := strings.TrimSpace(mustSherpack(t, "get", "notes", "books", "-n", ns).stdout); sn != hn || !strings.Contains(sn, "(revision 2), 3 replicas") {
		t.Errorf("notes: sherpack %q, Helm %q", sn, hn)
	}
	hooks := mustSherpack(t, "get", "hooks", "books", "-n", ns).stdout
	if !strings.Contains(hooks, "Job/books-ledger-migrate [[pre-install pre-upgrade]] weight -5") {
		t.Errorf("hooks:\n%s", hooks)
	}

	// Drift is clean right after the import, measured against the live objects.
	mustSherpack(t, "diff", "drift", "books", "-n", ns, "--detailed-exitcode")

	// Again: already done, nothing written.
	again := mustSherpack(t, "import", "helm", "books", "-n", ns)
	if !strings.Contains(again.stdout, "already imported") {
		t.Errorf("second import: %s", again.stdout)
	}
	if d := rvDiff(after, liveSnapshot(t, ns)); d != "" {
		t.Errorf("the second import wrote to objects: %s", d)
	}
	if n := len(releaseSecrets(t, ns)); n != 2 {
		t.Errorf("%d sherpack records after the second import, want 2", n)
	}

	// A rollback to the first imported revision applies Helm's revision 1 with no conflict.
	mustSherpack(t, "rollback", "books", "1", "-n", ns, "--timeout", "2m")
	waitRolledOut(t, ns, "books-ledger", 2)
	cm, err := testenv.Clientset(t).CoreV1().ConfigMaps(ns).Get(context.Background(), "books-ledger", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cm.Data["GREETING"] != "Welcome to the ledger" {
		t.Errorf("after rollback to 1 the greeting is %q", cm.Data["GREETING"])
	}
	if got := history(t, ns, "books"); got != "1:superseded 2:superseded 3:deployed" {
		t.Errorf("history after rollback %q", got)
	}
}

// TestHelmImportThenUpgradeFromChart: after the import, an upgrade from the same chart with the
// same values changes nothing and restarts no pod; an upgrade with a changed value applies with
// no conflict; history is Helm's revisions followed by ours. (This needs Helm charts as a
// PACK source.)
func TestHelmImportThenUpgradeFromChart(t *testing.T) {
	ns := testenv.Namespace(t)
	h := newHelm(t, "secret")
	helmInstallAndUpgrade(t, h, ns, "books")
	mustSherpack(t, "import", "helm", "books", "-n", ns)
	before := settledSnapshot(t, ns)

	r := mustSherpack(t, "upgrade", "books", ledgerChart, "-n", ns, "--timeout", "2m")
	if !strings.Contains(r.stdout, "4 objects (0 created, 0 changed, 4 unchanged)") {
		t.Errorf("an upgrade from the same chart with the same values must change nothing:\n%s\n%s", r.stdout, r.stderr)
	}
	after := settledSnapshot(t, ns)
	if b, a := podUIDs(before), podUIDs(after); !reflect.DeepEqual(b, a) {
		t.Errorf("the upgrade restarted pods: %v -> %v", b, a)
	}
	if b, a := replicaSets(before), replicaSets(after); !reflect.DeepEqual(b, a) {
		t.Errorf("the upgrade made a ReplicaSet: %v -> %v", b, a)
	}
	for _, k := range []string{"Deployment/books-ledger", "Service/books-ledger", "ConfigMap/books-ledger", "ServiceAccount/books-ledger"} {
		if b, a := before[k].GetResourceVersion(), after[k].GetResourceVersion(); b != a {
			t.Errorf("%s was written by an upgrade that changes nothing (resourceVersion %s -> %s)", k, b, a)
		}
	}

	// Written to by someone else since (the resourceVersions the release recorded are stale):
	// the upgrade now applies for real, against the ownership the import set up, and still
	// changes nothing.
	for _, what := range []string{"deployment/books-ledger", "configmap/books-ledger", "service/books-ledger"} {
		if r := runCmd(t, filepath.Join(testenv.ToolsDir(), "kubectl"), []string{"KUBECONFIG=" + testenv.Kubeconfig()},
			"annotate", what, "-n", ns, "example.com/audited=yes"); r.code != 0 {
			t.Fatalf("kubectl annotate %s: %s", what, r.stderr)
		}
	}
	touched := settledSnapshot(t, ns)
	r = mustSherpack(t, "upgrade", "books", ledgerChart, "-n", ns, "--timeout", "2m")
	if !strings.Contains(r.stdout, "4 objects (0 created, 0 changed, 4 unchanged)") {
		t.Errorf("an upgrade of objects others annotated meanwhile must still change nothing:\n%s\n%s", r.stdout, r.stderr)
	}
	if d := rvDiff(touched, settledSnapshot(t, ns)); strings.Contains(d, "Deployment/") || strings.Contains(d, "ConfigMap/books") || strings.Contains(d, "Service/") {
		t.Errorf("the second same-values upgrade wrote: %s", d)
	}

	// A changed value: applied without a conflict (Helm's field manager no longer owns a field),
	// the other values kept, the running pods kept (replicas only).
	mustSherpack(t, "upgrade", "books", ledgerChart, "-n", ns, "--reuse-values", "--set", "replicaCount=4", "--timeout", "2m")
	waitRolledOut(t, ns, "books-ledger", 4)
	scaled := settledSnapshot(t, ns)
	kept := podUIDs(scaled)
	for name, uid := range podUIDs(before) {
		if kept[name] != uid {
			t.Errorf("pod %s was replaced by a scale-up", name)
		}
	}
	cm, err := testenv.Clientset(t).CoreV1().ConfigMaps(ns).Get(context.Background(), "books-ledger", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cm.Data["GREETING"] != "Hello from Helm" {
		t.Errorf("--reuse-values kept Helm's user values? greeting %q", cm.Data["GREETING"])
	}
	for _, e := range scaled["Deployment/books-ledger"].GetManagedFields() {
		if e.Manager != "sherpack" && e.Manager != "kube-controller-manager" && e.Manager != "kubectl-annotate" {
			t.Errorf("Deployment has field manager %q after our upgrades", e.Manager)
		}
	}
	if got := history(t, ns, "books"); got != "1:superseded 2:superseded 3:superseded 4:superseded 5:deployed" {
		t.Errorf("history %q", got)
	}
}

// TestHelmImportRefusedWhilePending: Helm's latest revision pending-upgrade (as a helm upgrade
// that died leaves it) is refused with how to recover, and nothing is changed; once the pending
// record is dealt with as the message says, the import goes through.
func TestHelmImportRefusedWhilePending(t *testing.T) {
	ns := testenv.Namespace(t)
	h := newHelm(t, "secret")
	h.must("install", "books", ledgerChart, "-n", ns, "--timeout", "2m")
	waitRolledOut(t, ns, "books-ledger", 2)
	cs := testenv.Clientset(t)
	ctx := context.Background()
	v1, err := cs.CoreV1().Secrets(ns).Get(ctx, "sh.helm.release.v1.books.v1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rel := helmRecordJSON(t, v1.Data["release"])
	rel["version"] = 2
	info := rel["info"].(map[string]any)
	info["status"], info["description"] = "pending-upgrade", "Preparing upgrade"
	pending := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "sh.helm.release.v1.books.v2",
		Labels: map[string]string{"owner": "helm", "name": "books", "version": "2", "status": "pending-upgrade"}},
		Type: helmimport.SecretType, Data: map[string][]byte{"release": helmRecordPayload(t, rel)}}
	if _, err := cs.CoreV1().Secrets(ns).Create(ctx, pending, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Helm reads the record as its own: the release is pending-upgrade to Helm too.
	if st := h.must("status", "books", "-n", ns, "-o", "json").stdout; !strings.Contains(st, `"status":"pending-upgrade"`) {
		t.Fatalf("helm status: %s", st)
	}
	before := settledSnapshot(t, ns)

	r := expectExit(t, 1, "pending-upgrade", "import", "helm", "books", "-n", ns)
	for _, want := range []string{"nothing was changed", "helm rollback books 1 -n " + ns, "kubectl delete secret sh.helm.release.v1.books.v2 -n " + ns} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the refusal should say %q:\n%s", want, r.stderr)
		}
	}
	if d := rvDiff(before, liveSnapshot(t, ns)); d != "" {
		t.Errorf("a refused import wrote to objects: %s", d)
	}
	if n := len(releaseSecrets(t, ns)); n != 0 {
		t.Errorf("a refused import wrote %d records", n)
	}

	// Recovered as the message says (the pending record deleted): imported.
	if err := cs.CoreV1().Secrets(ns).Delete(ctx, pending.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	mustSherpack(t, "import", "helm", "books", "-n", ns)
	if got := history(t, ns, "books"); got != "1:deployed" {
		t.Errorf("history %q", got)
	}
}

// TestHelmImportConfigMapStorage: a release Helm stored in ConfigMaps (HELM_DRIVER=configmap)
// is imported with --helm-storage configmap; without it the import says where else to look.
func TestHelmImportConfigMapStorage(t *testing.T) {
	ns := testenv.Namespace(t)
	h := newHelm(t, "configmap")
	helmInstallAndUpgrade(t, h, ns, "books")
	cms, err := testenv.Clientset(t).CoreV1().ConfigMaps(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "owner=helm"})
	if err != nil || len(cms.Items) != 2 {
		t.Fatalf("Helm's ConfigMap records: %v %v", cms, err)
	}
	expectExit(t, 4, "--helm-storage configmap", "import", "helm", "books", "-n", ns)
	before := settledSnapshot(t, ns)
	mustSherpack(t, "import", "helm", "books", "-n", ns, "--helm-storage", "configmap")
	checkTakeover(t, before, settledSnapshot(t, ns), "books", ns)
	if got := history(t, ns, "books"); got != "1:superseded 2:deployed" {
		t.Errorf("history %q", got)
	}
	mustSherpack(t, "diff", "drift", "books", "-n", ns, "--detailed-exitcode")
}

// TestHelmImportDryRun: --dry-run says what it would do and changes nothing, neither on the
// objects nor in the release store.
func TestHelmImportDryRun(t *testing.T) {
	ns := testenv.Namespace(t)
	h := newHelm(t, "secret")
	helmInstallAndUpgrade(t, h, ns, "books")
	before := settledSnapshot(t, ns)

	rep := parseImport(t, mustSherpack(t, "import", "helm", "books", "-n", ns, "--dry-run", "-o", "json").stdout)
	if rep.APIVersion != "sherpack.io/v1" || rep.Kind != "Import" || !rep.DryRun || len(rep.Revisions) != 2 {
		t.Fatalf("report: %+v", rep)
	}
	for _, r := range rep.Revisions {
		if r.Action != "would-write" || r.Chart != "ledger-1.4.0" {
			t.Errorf("revision %+v", r)
		}
	}
	if len(rep.Objects) != 5 {
		t.Fatalf("objects: %+v", rep.Objects)
	}
	for _, o := range rep.Objects {
		if o.Action != "would-take-over" || len(o.ManagersRemoved) == 0 || o.ManagersRemoved[0] != "helm (Apply)" || len(o.Labels) != 3 {
			t.Errorf("object %+v", o)
		}
		if !o.Hook && !o.InSync {
			t.Errorf("%s is as Helm's manifest says: it should be in sync", o.Object)
		}
	}
	human := mustSherpack(t, "import", "helm", "books", "-n", ns, "--dry-run")
	if !strings.Contains(human.stdout, "Dry run: nothing was changed") {
		t.Errorf("dry run output:\n%s", human.stdout)
	}

	if d := rvDiff(before, liveSnapshot(t, ns)); d != "" {
		t.Errorf("a dry run wrote to objects: %s", d)
	}
	if n := len(releaseSecrets(t, ns)); n != 0 {
		t.Errorf("a dry run wrote %d records", n)
	}
	leases, err := testenv.Clientset(t).CoordinationV1().Leases(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil || len(leases.Items) != 0 {
		t.Errorf("a dry run took a lock: %v %v", leases, err)
	}
}

// TestHelmImportDeleteHelmRecords: with --delete-helm-records, Helm's records go once the
// import succeeded (helm list no longer shows the release); the release lives on in sherpack.
func TestHelmImportDeleteHelmRecords(t *testing.T) {
	ns := testenv.Namespace(t)
	h := newHelm(t, "secret")
	helmInstallAndUpgrade(t, h, ns, "books")
	// An object of the release deleted by hand: reported, not an error.
	if err := testenv.Clientset(t).CoreV1().ServiceAccounts(ns).Delete(context.Background(), "books-ledger", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	rep := parseImport(t, mustSherpack(t, "import", "helm", "books", "-n", ns, "--delete-helm-records", "-o", "json").stdout)
	if len(rep.DeletedHelmRecords) != 2 {
		t.Errorf("deleted: %v", rep.DeletedHelmRecords)
	}
	actions := map[string]string{}
	for _, o := range rep.Objects {
		actions[o.Object] = o.Action
	}
	if actions["ServiceAccount/"+ns+"/books-ledger"] != "missing" || actions["Deployment/"+ns+"/books-ledger"] != "taken-over" || len(actions) != 5 {
		t.Errorf("objects: %v", actions)
	}
	s, err := testenv.Clientset(t).CoreV1().Secrets(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "owner=helm"})
	if err != nil || len(s.Items) != 0 {
		t.Errorf("Helm's records left: %v %v", s, err)
	}
	if out := strings.TrimSpace(h.must("list", "-n", ns, "-q").stdout); out != "" {
		t.Errorf("helm list still shows %q", out)
	}
	if got := history(t, ns, "books"); got != "1:superseded 2:deployed" {
		t.Errorf("history %q", got)
	}
	expectExit(t, 4, "no Helm release books", "import", "helm", "books", "-n", ns)
}

// TestHelmRecordsDecodeAsHelmReadsThem: our decoder, run on the records the real Helm binary
// wrote, reads what Helm itself reports of them.
func TestHelmRecordsDecodeAsHelmReadsThem(t *testing.T) {
	ns := testenv.Namespace(t)
	h := newHelm(t, "secret")
	helmInstallAndUpgrade(t, h, ns, "books")
	recs, err := helmimport.ReadRecords(context.Background(), testenv.Clientset(t), helmimport.StorageSecret, ns, "books")
	if err != nil {
		t.Fatal(err)
	}
	var hist []struct {
		Revision    int    `json:"revision"`
		Status      string `json:"status"`
		Chart       string `json:"chart"`
		AppVersion  string `json:"app_version"`
		Description string `json:"description"`
	}
	if err := json.Unmarshal([]byte(h.must("history", "books", "-n", ns, "-o", "json").stdout), &hist); err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(hist) || len(recs) != 2 {
		t.Fatalf("%d records, Helm's history has %d", len(recs), len(hist))
	}
	for i, r := range recs {
		hh := hist[i]
		if r.Version != hh.Revision || r.Status != hh.Status || r.Chart.Name+"-"+r.Chart.Version != hh.Chart ||
			r.Chart.AppVersion != hh.AppVersion || r.Description != hh.Description {
			t.Errorf("revision %d: ours %d %s %s-%s %s %q, Helm %+v", i+1, r.Version, r.Status, r.Chart.Name, r.Chart.Version, r.Chart.AppVersion, r.Description, hh)
		}
		rev := itoa(r.Version)
		if m := h.must("get", "manifest", "books", "-n", ns, "--revision", rev).stdout; strings.TrimSpace(m) != strings.TrimSpace(r.Manifest) {
			t.Errorf("revision %d manifest differs:\nours %q\nHelm %q", r.Version, r.Manifest, m)
		}
		var hv map[string]any
		if err := json.Unmarshal([]byte(h.must("get", "values", "books", "-n", ns, "--revision", rev, "-o", "json").stdout), &hv); err != nil {
			t.Fatal(err)
		}
		if mustJSON(hv) != mustJSON(r.Config) && !(len(hv) == 0 && len(r.Config) == 0) {
			t.Errorf("revision %d user values: ours %v, Helm %v", r.Version, r.Config, hv)
		}
		if len(r.Hooks) != 1 || r.Hooks[0].Name != "books-ledger-migrate" || r.Hooks[0].LastRun.Phase != "Succeeded" {
			t.Errorf("revision %d hooks: %+v", r.Version, r.Hooks)
		}
		if r.LastDeployed.IsZero() || r.ApplyMethod != "ssa" {
			t.Errorf("revision %d: last deployed %v, apply method %q", r.Version, r.LastDeployed, r.ApplyMethod)
		}
	}
	if !strings.Contains(recs[1].Notes, "(revision 2), 3 replicas") {
		t.Errorf("notes %q", recs[1].Notes)
	}
}

// TestHelmImportClientSideApplied: a release Helm applied client-side (Helm 3's way, kept by
// Helm 4 upgrades of such releases: field manager helm with Update entries) is taken over the
// same way, and a rollback that changes values meets no conflict.
func TestHelmImportClientSideApplied(t *testing.T) {
	ns := testenv.Namespace(t)
	h := newHelm(t, "secret")
	h.must("install", "books", ledgerChart, "-n", ns, "--server-side=false", "--timeout", "2m")
	h.must("upgrade", "books", ledgerChart, "-n", ns, "--set", "replicaCount=3", "--set", "config.greeting=Hello from Helm", "--timeout", "2m")
	waitRolledOut(t, ns, "books-ledger", 3)
	before := settledSnapshot(t, ns)
	for _, e := range before["ConfigMap/books-ledger"].GetManagedFields() {
		if e.Manager == "helm" && e.Operation != metav1.ManagedFieldsOperationUpdate {
			t.Fatalf("helm --server-side=false should have applied client-side, managedFields %+v", e)
		}
	}
	rep := parseImport(t, mustSherpack(t, "import", "helm", "books", "-n", ns, "-o", "json").stdout)
	for _, o := range rep.Objects {
		if o.Action != "taken-over" || len(o.ManagersRemoved) != 1 || o.ManagersRemoved[0] != "helm (Update)" {
			t.Errorf("object %+v", o)
		}
	}
	after := settledSnapshot(t, ns)
	checkTakeover(t, before, after, "books", ns)
	if b, a := podUIDs(before), podUIDs(after); !reflect.DeepEqual(b, a) {
		t.Errorf("pods changed with the import: %v -> %v", b, a)
	}
	mustSherpack(t, "diff", "drift", "books", "-n", ns, "--detailed-exitcode")
	mustSherpack(t, "rollback", "books", "1", "-n", ns, "--timeout", "2m")
	waitRolledOut(t, ns, "books-ledger", 2)
	if got := history(t, ns, "books"); got != "1:superseded 2:superseded 3:deployed" {
		t.Errorf("history %q", got)
	}
}

// TestHelmImportOtherFieldManagers: a field manager besides Helm's that shares fields the release
// sets is reported (an upgrade changing them would conflict with it); named with
// --helm-field-manager it is taken over as Helm's. One that holds a label the takeover must set
// refuses the import, and no revision is written.
func TestHelmImportOtherFieldManagers(t *testing.T) {
	ns := testenv.Namespace(t)
	h := newHelm(t, "secret")
	h.must("install", "books", ledgerChart, "-n", ns, "--timeout", "2m")
	kubectl := func(stdin string, args ...string) {
		t.Helper()
		cmd := exec.Command(filepath.Join(testenv.ToolsDir(), "kubectl"), args...)
		cmd.Env = append(os.Environ(), "KUBECONFIG="+testenv.Kubeconfig())
		cmd.Stdin = strings.NewReader(stdin)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("kubectl %v: %v\n%s", args, err, out)
		}
	}
	// Another client applied the same greeting: it co-owns the field.
	kubectl("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: books-ledger, namespace: "+ns+"}\ndata: {GREETING: Welcome to the ledger}\n",
		"apply", "--server-side", "--field-manager", "Go-http-client", "-f", "-")

	dry := mustSherpack(t, "import", "helm", "books", "-n", ns, "--dry-run")
	if !strings.Contains(dry.stderr, "ConfigMap/"+ns+"/books-ledger: fields the release sets are also owned by Go-http-client (Apply): .data.GREETING") {
		t.Errorf("the dry run should warn of the co-owned field:\n%s", dry.stderr)
	}
	r := mustSherpack(t, "import", "helm", "books", "-n", ns, "--helm-field-manager", "Go-http-client")
	if strings.Contains(r.stderr, "also owned by") {
		t.Errorf("named as Helm's, the manager is taken over, not warned of:\n%s", r.stderr)
	}
	cm, err := testenv.Clientset(t).CoreV1().ConfigMaps(ns).Get(context.Background(), "books-ledger", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range cm.ManagedFields {
		if e.Manager != "sherpack" {
			t.Errorf("ConfigMap still has field manager %s", e.Manager)
		}
	}

	// Someone relabelled an object by hand: the label the takeover sets is theirs now.
	ns2 := testenv.Namespace(t)
	h.must("install", "books", ledgerChart, "-n", ns2, "--timeout", "2m")
	kubectl("", "label", "--overwrite", "service/books-ledger", "-n", ns2, "app.kubernetes.io/managed-by=someone")
	before := settledSnapshot(t, ns2)
	e := expectExit(t, 1, `app.kubernetes.io/managed-by (field manager "kubectl-label")`, "import", "helm", "books", "-n", ns2)
	if !strings.Contains(e.stderr, "Nothing was changed: no object was taken over, no revision written") {
		t.Errorf("the refusal should say nothing was changed:\n%s", e.stderr)
	}
	if n := len(releaseSecrets(t, ns2)); n != 0 {
		t.Errorf("%d records written by a refused import", n)
	}
	// Every object is checked before any is written: none was touched.
	if d := rvDiff(before, liveSnapshot(t, ns2)); d != "" {
		t.Errorf("a refused import wrote to objects: %s", d)
	}
	// The hand edit may be overridden: named, it is taken over like Helm's.
	mustSherpack(t, "import", "helm", "books", "-n", ns2, "--helm-field-manager", "kubectl-label")
	svc, err := testenv.Clientset(t).CoreV1().Services(ns2).Get(context.Background(), "books-ledger", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if svc.Labels["app.kubernetes.io/managed-by"] != "sherpack" {
		t.Errorf("Service labels %v", svc.Labels)
	}
	for _, e := range svc.ManagedFields {
		if e.Manager != "sherpack" {
			t.Errorf("Service still has field manager %s", e.Manager)
		}
	}
}

// TestHelmImportAfterAFailedUpgrade: Helm's latest revision is a failed upgrade whose pods never
// became ready. The import keeps it failed over the deployed one, claims what Helm applied last,
// and does not call the Deployment in sync with the deployed revision; a rollback to that
// revision then removes what the failed upgrade added (fields sherpack now owns).
func TestHelmImportAfterAFailedUpgrade(t *testing.T) {
	ns := testenv.Namespace(t)
	h := newHelm(t, "secret")
	h.must("install", "books", ledgerChart, "-n", ns, "--timeout", "2m")
	waitRolledOut(t, ns, "books-ledger", 2)
	if r := h.run("upgrade", "books", ledgerChart, "-n", ns, "--set", `podLabels.sherpack\.test/never-ready=yes`, "--wait", "--timeout", "5s"); r.code == 0 {
		t.Fatalf("the upgrade to pods that never become ready should fail:\n%s", r.stdout)
	}
	before := settledSnapshot(t, ns)

	rep := parseImport(t, mustSherpack(t, "import", "helm", "books", "-n", ns, "-o", "json").stdout)
	if len(rep.Revisions) != 2 || rep.Revisions[0].State != "deployed" || rep.Revisions[1].State != "failed" || rep.Revisions[1].HelmStatus != "failed" {
		t.Fatalf("revisions %+v", rep.Revisions)
	}
	for _, o := range rep.Objects {
		wantSync := !o.Hook && o.Object != "Deployment/"+ns+"/books-ledger"
		if o.Action != "taken-over" || o.InSync != wantSync {
			t.Errorf("object %+v: in sync should be %v", o, wantSync)
		}
	}
	after := settledSnapshot(t, ns)
	checkTakeover(t, before, after, "books", ns)
	if b, a := podUIDs(before), podUIDs(after); !reflect.DeepEqual(b, a) {
		t.Errorf("pods changed with the import: %v -> %v", b, a)
	}
	if got := history(t, ns, "books"); got != "1:deployed 2:failed" {
		t.Errorf("history %q", got)
	}

	mustSherpack(t, "rollback", "books", "1", "-n", ns, "--timeout", "2m")
	waitRolledOut(t, ns, "books-ledger", 2)
	d, err := testenv.Clientset(t).AppsV1().Deployments(ns).Get(context.Background(), "books-ledger", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d.Spec.Template.Labels["sherpack.test/never-ready"]; ok {
		t.Errorf("the rollback to revision 1 kept the label the failed upgrade added: %v", d.Spec.Template.Labels)
	}
	if got := history(t, ns, "books"); got != "1:superseded 2:failed 3:deployed" {
		t.Errorf("history after rollback %q", got)
	}
}
