package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/sherpack/kubectl-sherpack/internal/testenv"
)

// kubeconfigWithContext writes a copy of the test kubeconfig with one more context, ctxName,
// whose namespace is ns, and a current context that points nowhere useful: only --context
// makes commands reach the release.
func kubeconfigWithContext(t *testing.T, ctxName, ns string) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(testenv.Kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	cur := *cfg.Contexts[cfg.CurrentContext]
	named := cur
	named.Namespace = ns
	cfg.Contexts[ctxName] = &named
	wrong := cur
	wrong.Namespace = "sherpack-no-such-namespace"
	cfg.Contexts["elsewhere"] = &wrong
	cfg.CurrentContext = "elsewhere"
	p := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, p); err != nil {
		t.Fatal(err)
	}
	return p
}

// kubectl's --context, -n and --kubeconfig reach every command; none is shadowed (diff's
// context lines are -U/--unified).
func TestKubectlGlobalFlagsOnEveryCommand(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	kc := kubeconfigWithContext(t, "e2e-"+ns, ns)
	g := []string{"--kubeconfig", kc, "--context", "e2e-" + ns}
	run := func(args ...string) result {
		t.Helper()
		// No KUBECONFIG in the environment: only the flags say where the cluster is.
		r := runCmd(t, testenv.PluginBinary(), []string{"KUBECONFIG="}, append(args, g...)...)
		if r.code != 0 {
			t.Fatalf("kubectl sherpack %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
		return r
	}
	run("install", "shop", webapp, "--set", "replicas=1")
	if r := run("list", "-q"); strings.TrimSpace(r.stdout) != "shop" {
		t.Fatalf("list through --context (its namespace): %q", r.stdout)
	}
	if r := run("diff", "upgrade", "shop", webapp, "--set", "replicas=2", "-U", "1"); !strings.Contains(r.stdout, "+  replicas: 2") && !strings.Contains(r.stdout, "replicas: 2") {
		t.Fatalf("diff upgrade --context: %s", r.stdout)
	}
	run("upgrade", "shop", webapp, "--set", "replicas=2")
	run("diff", "revisions", "shop", "1", "2")
	run("diff", "drift", "shop")
	run("history", "shop")
	run("status", "shop")
	run("get", "values", "shop")
	run("get", "metadata", "shop")
	run("template", "shop", webapp, "--validate")
	run("test", "shop")
	run("recover", "shop")
	run("rollback", "shop")
	// -n wins over the context's namespace, as in kubectl: nothing in the other namespace.
	if r := runCmd(t, testenv.PluginBinary(), []string{"KUBECONFIG="}, append([]string{"list", "-n", "default", "-q"}, g...)...); r.code != 0 || strings.TrimSpace(r.stdout) != "" {
		t.Fatalf("list -n default: exit %d %q %s", r.code, r.stdout, r.stderr)
	}
	run("uninstall", "shop", "-n", ns)
	if s := releaseSecrets(t, ns); len(s) != 0 {
		t.Fatalf("uninstall through --context left %d records", len(s))
	}
}

// Helm habits get a pointer to the right flag instead of a surprise.
func TestHelmHabitsAreCaught(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	vals := writeFiles(t, map[string]string{"values.yaml": "replicas: 1\n"})
	r := expectExit(t, 3, "--values "+filepath.Join(vals, "values.yaml"), "install", "shop", webapp, "-n", ns, "-f", filepath.Join(vals, "values.yaml"))
	if !strings.Contains(r.stderr, "-f is kubectl's --filename") {
		t.Fatalf("pack and -f: %s", r.stderr)
	}
	r = expectExit(t, 3, "--show-only templates/deployment.yaml", "template", "shop", webapp, "-s", "templates/deployment.yaml")
	if r.stdout != "" {
		t.Fatalf("template -s printed the pack anyway:\n%.300s", r.stdout)
	}
	expectExit(t, 3, "unknown flag: --context-lines", "diff", "upgrade", "shop", webapp, "--context-lines", "2")
}

// list's Helm flags: --filter, -q, -m, --offset, -d, -r.
func TestListHelmFlags(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	for _, name := range []string{"bravo", "alpha", "charlie"} { // installed in this order
		dir := writeFiles(t, map[string]string{"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + "}\n"})
		mustSherpack(t, "install", name, "-f", dir, "-n", ns)
	}
	list := func(args ...string) string {
		t.Helper()
		return strings.Join(strings.Fields(mustSherpack(t, append([]string{"list", "-n", ns, "-q"}, args...)...).stdout), " ")
	}
	cases := map[string][]string{
		"alpha bravo charlie": nil,
		"charlie bravo alpha": {"-r"},
		"bravo alpha charlie": {"-d"},
		"charlie alpha bravo": {"-d", "-r"},
		"bravo":               {"--offset", "1", "-m", "1"},
		"alpha charlie":       {"--filter", "^(a|c)"},
		"charlie":             {"--filter", "a", "--offset", "2"},
	}
	for want, args := range cases {
		if got := list(args...); got != want {
			t.Errorf("list -q %v: %q, want %q", args, got, want)
		}
	}
	expectExit(t, 3, "--filter", "list", "-n", ns, "--filter", "(")
}

// uninstall takes several names and --ignore-not-found.
func TestUninstallSeveralAndIgnoreNotFound(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	for _, name := range []string{"one", "two"} {
		dir := writeFiles(t, map[string]string{"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + "}\n"})
		mustSherpack(t, "install", name, "-f", dir, "-n", ns)
	}
	expectExit(t, 4, "not found", "uninstall", "one", "missing", "-n", ns)
	r := mustSherpack(t, "uninstall", "one", "missing", "two", "-n", ns, "--ignore-not-found")
	if !strings.Contains(r.stderr, "missing not found") || !strings.Contains(r.stdout, "two uninstalled") {
		t.Fatalf("uninstall --ignore-not-found:\n%s%s", r.stdout, r.stderr)
	}
	cs := testenv.Clientset(t)
	for _, name := range []string{"one", "two"} {
		if _, err := cs.CoreV1().ConfigMaps(ns).Get(context.Background(), name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Fatalf("ConfigMap %s still there: %v", name, err)
		}
	}
	if s := releaseSecrets(t, ns); len(s) != 0 {
		t.Fatalf("%d records left", len(s))
	}
}

// Helm 4's spellings of install and upgrade flags, applied for real.
func TestHelmOperationFlags(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	cs := testenv.Clientset(t)
	ctx := context.Background()
	r := mustSherpack(t, "install", "shop", webapp, "-n", ns, "--wait=watcher", "--hide-notes", "--set", "replicas=1")
	if strings.Contains(r.stdout, "NOTES") {
		t.Fatalf("--hide-notes printed the notes:\n%s", r.stdout)
	}
	if r = mustSherpack(t, "upgrade", "shop", webapp, "-n", ns, "--wait=legacy", "--set-literal", `config.greeting=a,b\c=d`); !strings.Contains(r.stdout, "NOTES") {
		t.Fatalf("notes are printed without --hide-notes:\n%s", r.stdout)
	}
	cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "shop-webapp-config", metav1.GetOptions{})
	if err != nil || cm.Data["GREETING"] != `a,b\c=d` {
		t.Fatalf("--set-literal: %v %q", err, cm.Data["GREETING"])
	}
	if src := mustSherpack(t, "get", "values", "shop", "-n", ns, "--show-sources").stdout; !strings.Contains(src, "--set-literal") {
		t.Fatalf("--set-literal is not named as the source:\n%s", src)
	}
	mustSherpack(t, "upgrade", "shop", webapp, "-n", ns, "--wait=hookOnly", "--reuse-values")
	expectExit(t, 3, "--wait", "upgrade", "shop", webapp, "-n", ns, "--wait=sometimes")
	expectExit(t, 3, "must be one of", "upgrade", "shop", webapp, "-n", ns, "--reuse-values", "--set", "config.logLevel=loud")
	mustSherpack(t, "upgrade", "shop", webapp, "-n", ns, "--reuse-values", "--set", "config.logLevel=loud", "--skip-schema-validation")
	if cm, _ := cs.CoreV1().ConfigMaps(ns).Get(ctx, "shop-webapp-config", metav1.GetOptions{}); cm.Data["LOG_LEVEL"] != "loud" {
		t.Fatalf("--skip-schema-validation: LOG_LEVEL %q", cm.Data["LOG_LEVEL"])
	}

	// --rollback-on-failure is --atomic: a failed install is undone.
	stuck := writeFiles(t, map[string]string{"d.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: stuck}
spec:
  selector: {matchLabels: {app: stuck}}
  template:
    metadata: {labels: {app: stuck, sherpack.test/never-ready: "true"}}
    spec: {containers: [{name: c, image: example.local/x:1}]}
`})
	expectExit(t, 1, "stuck", "install", "bad", "-f", stuck, "-n", ns, "--rollback-on-failure", "--timeout", "5s")
	if _, err := cs.AppsV1().Deployments(ns).Get(ctx, "stuck", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("--rollback-on-failure left the Deployment: %v", err)
	}
}

// --skip-crds leaves crds/ out of install; without it the CRD is applied.
func TestSkipCRDs(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	pk := writeFiles(t, map[string]string{
		"Pack.yaml":         "apiVersion: sherpack/v1\nmetadata: {name: crdpack, version: 0.1.0}\n",
		"values.yaml":       "{}\n",
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\n",
		"crds/widgets.yaml": crdYAML(ns),
	})
	mustSherpack(t, "install", "nocrd", pk, "-n", ns, "--skip-crds")
	r := runCmd(t, filepath.Join(testenv.ToolsDir(), "kubectl"), []string{"KUBECONFIG=" + testenv.Kubeconfig()}, "get", "crd", "widgets"+crdGroup(ns))
	if r.code == 0 {
		t.Fatalf("--skip-crds applied the CRD:\n%s", r.stdout)
	}
	mustSherpack(t, "upgrade", "nocrd", pk, "-n", ns)
	t.Cleanup(func() {
		runCmd(t, filepath.Join(testenv.ToolsDir(), "kubectl"), []string{"KUBECONFIG=" + testenv.Kubeconfig()}, "delete", "crd", "widgets"+crdGroup(ns))
	})
	if r := runCmd(t, filepath.Join(testenv.ToolsDir(), "kubectl"), []string{"KUBECONFIG=" + testenv.Kubeconfig()}, "get", "crd", "widgets"+crdGroup(ns)); r.code != 0 {
		t.Fatalf("without --skip-crds the CRD is applied: %s", r.stderr)
	}
}

func crdGroup(ns string) string { return "." + ns + ".sherpack.test" }

func crdYAML(ns string) string {
	return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets` + crdGroup(ns) + `}
spec:
  group: ` + strings.TrimPrefix(crdGroup(ns), ".") + `
  names: {kind: Widget, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`
}

// template's stand-ins for a cluster: --kube-version, --api-versions, --is-upgrade. template
// prints each document as its template wrote it, so the quotes of the template stay.
func TestTemplateCapabilityFlags(t *testing.T) {
	t.Parallel()
	pk := writeFiles(t, map[string]string{
		"Pack.yaml":   "apiVersion: sherpack/v1\nmetadata: {name: caps, version: 0.1.0}\n",
		"values.yaml": "{}\n",
		"templates/cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata: {name: caps}
data:
  kube: "{{ capabilities.kubeVersion.version }}"
  minor: "{{ capabilities.kubeVersion.minor }}"
  monitoring: "{{ 'monitoring.coreos.com/v1' in capabilities.apiVersions }}"
  upgrade: "{{ release.isUpgrade }}"
`,
	})
	r := mustSherpack(t, "template", "x", pk, "--kube-version", "1.30", "--api-versions", "monitoring.coreos.com/v1", "--is-upgrade")
	for _, want := range []string{`kube: "v1.30.0"`, `minor: "30"`, `monitoring: "True"`, `upgrade: "True"`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("template with capability flags lacks %s:\n%s", want, r.stdout)
		}
	}
	r = mustSherpack(t, "template", "x", pk)
	for _, want := range []string{`kube: "v1.37.0"`, `monitoring: "False"`, `upgrade: "False"`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("template defaults lack %s:\n%s", want, r.stdout)
		}
	}
	expectExit(t, 3, "--kube-version", "template", "x", pk, "--kube-version", "one.thirty")
}

// --post-renderer: objects and hooks go through the program (with --post-renderer-args), and
// what it prints is what is applied and recorded.
func TestPostRenderer(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	dir := writeFiles(t, map[string]string{"post.sh": "#!/bin/sh\nsed -e \"s/LOG_LEVEL: info/LOG_LEVEL: $1/\" -e 's#shop/migrate:3.1#shop/migrate:post#'\n"})
	exe := filepath.Join(dir, "post.sh")
	if err := os.Chmod(exe, 0o755); err != nil {
		t.Fatal(err)
	}
	mustSherpack(t, "install", "shop", webapp, "-n", ns, "--set", "replicas=1", "--post-renderer", exe, "--post-renderer-args", "warn")
	cm, err := testenv.Clientset(t).CoreV1().ConfigMaps(ns).Get(context.Background(), "shop-webapp-config", metav1.GetOptions{})
	if err != nil || cm.Data["LOG_LEVEL"] != "warn" {
		t.Fatalf("object not post-rendered: %v %v", err, cm.Data)
	}
	if h := mustSherpack(t, "get", "hooks", "shop", "-n", ns).stdout; !strings.Contains(h, "shop/migrate:post") {
		t.Fatalf("hooks not post-rendered:\n%s", h)
	}
	if tpl := mustSherpack(t, "template", "shop", webapp, "--post-renderer", exe, "--post-renderer-args", "error").stdout; !strings.Contains(tpl, "LOG_LEVEL: error") || !strings.Contains(tpl, "# Source: webapp/templates/configmap.yaml") {
		t.Fatalf("template --post-renderer:\n%.600s", tpl)
	}
	bad := writeFiles(t, map[string]string{"bad.sh": "#!/bin/sh\necho broken >&2\nexit 7\n"})
	_ = os.Chmod(filepath.Join(bad, "bad.sh"), 0o755)
	expectExit(t, 3, "broken", "upgrade", "shop", webapp, "-n", ns, "--post-renderer", filepath.Join(bad, "bad.sh"))
}

// An immutable change is refused with the field named and --force-replace suggested; with it
// the object is deleted and recreated. --field-manager names the manager of the applies.
func TestForceReplaceAndFieldManager(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	cs := testenv.Clientset(t)
	ctx := context.Background()
	cm := func(v string) string {
		return writeFiles(t, map[string]string{"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: frozen}\nimmutable: true\ndata: {v: \"" + v + "\"}\n"})
	}
	mustSherpack(t, "install", "ice", "-f", cm("1"), "-n", ns, "--field-manager", "release-bot")
	before, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "frozen", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	managers := map[string]bool{}
	for _, m := range before.ManagedFields {
		managers[m.Manager+"/"+string(m.Operation)] = true
	}
	if !managers["release-bot/Apply"] || managers["sherpack/Apply"] {
		t.Fatalf("--field-manager release-bot: managers %v", managers)
	}
	// Another manager of the same fields is a conflict, as server-side apply has it.
	expectExit(t, 1, `conflict with field manager "release-bot"`, "upgrade", "ice", "-f", cm("2"), "-n", ns)
	bot := []string{"-n", ns, "--field-manager", "release-bot"}
	r := expectExit(t, 1, "--force-replace", append([]string{"upgrade", "ice", "-f", cm("2")}, bot...)...)
	if !strings.Contains(r.stderr, "immutable field(s) data") || !strings.Contains(r.stderr, "ConfigMap/"+ns+"/frozen") {
		t.Fatalf("the refusal must name the object and the field:\n%s", r.stderr)
	}
	mustSherpack(t, append([]string{"upgrade", "ice", "-f", cm("3"), "--force-replace"}, bot...)...)
	after, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "frozen", metav1.GetOptions{})
	if err != nil || after.Data["v"] != "3" || after.UID == before.UID {
		t.Fatalf("--force-replace: err %v, data %v, uid changed %v", err, after.Data, after.UID != before.UID)
	}
	expectExit(t, 3, "--field-manager", "upgrade", "ice", "-f", cm("3"), "-n", ns, "--field-manager", "")
}

// --labels are recorded on the release (on its storage objects, as Helm 4 does), merged on
// upgrade (k=null removes one), and list -l selects on them.
func TestReleaseLabels(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	cm := func(name string) string {
		return writeFiles(t, map[string]string{"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + "}\n"})
	}
	mustSherpack(t, "install", "pay", "-f", cm("pay"), "-n", ns, "--labels", "team=payments,tier=web")
	mustSherpack(t, "install", "ops", "-f", cm("ops"), "-n", ns, "--labels", "team=ops")
	if got := strings.TrimSpace(mustSherpack(t, "list", "-n", ns, "-q", "-l", "team=payments").stdout); got != "pay" {
		t.Fatalf("list -l team=payments: %q", got)
	}
	if got := strings.Fields(mustSherpack(t, "list", "-n", ns, "-q", "-l", "team").stdout); len(got) != 2 {
		t.Fatalf("list -l team: %q", got)
	}
	mustSherpack(t, "upgrade", "pay", "-f", cm("pay"), "-n", ns, "--labels", "tier=null,env=prod")
	if got := mustSherpack(t, "get", "metadata", "pay", "-n", ns, "-o", "jsonpath={.labels}").stdout; got != `{"env":"prod","team":"payments"}` {
		t.Fatalf("labels after the upgrade: %s", got)
	}
	if got := strings.TrimSpace(mustSherpack(t, "list", "-n", ns, "-q", "-l", "tier").stdout); got != "" {
		t.Fatalf("tier=null must remove the label: %q", got)
	}
	// On the record itself, next to sherpack's own labels.
	for _, s := range releaseSecrets(t, ns) {
		if s.Labels["name"] == "pay" && s.Labels["version"] == "2" && (s.Labels["env"] != "prod" || s.Labels["owner"] != "sherpack") {
			t.Fatalf("record labels: %v", s.Labels)
		}
	}
	mustSherpack(t, "upgrade", "pay", "-f", cm("pay"), "-n", ns)
	if got := mustSherpack(t, "list", "-n", ns, "-l", "env=prod", "-o", "jsonpath={.items[*].labels.team}").stdout; got != "payments" {
		t.Fatalf("an upgrade without --labels keeps them: %q", got)
	}
	expectExit(t, 3, "reserved", "install", "x", "-f", cm("x"), "-n", ns, "--labels", "status=mine")
}
