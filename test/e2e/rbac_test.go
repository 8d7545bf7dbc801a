package e2e

import (
	"context"
	"regexp"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sherpack/kubectl-sherpack/internal/testenv"
	"github.com/sherpack/kubectl-sherpack/pkg/releases"
)

// A user with only a namespaced Role (the README's storage rules plus rights on the release's
// own kinds) installs, upgrades, rolls back, lists and uninstalls there; without the rights, the
// error names the verb, resource and namespace.
func TestNamespacedRoleIsEnough(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	admin := testenv.Clientset(t)
	ctx := context.Background()
	kc := testenv.ServiceAccountKubeconfig(t, ns, "deployer")
	rules := append(releases.StorageRBACRules(),
		rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"services", "pods"}, Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete"}},
		rbacv1.PolicyRule{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete"}},
		rbacv1.PolicyRule{APIGroups: []string{"batch"}, Resources: []string{"jobs"}, Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete"}},
		rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"watch", "patch"}},
	)
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "deployer"}, Rules: rules}
	if _, err := admin.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "deployer"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "deployer"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "deployer", Namespace: ns}}}
	if _, err := admin.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	as := func(args ...string) result {
		return runCmd(t, testenv.PluginBinary(), []string{"KUBECONFIG=" + kc}, append(args, "-n", ns)...)
	}
	must := func(args ...string) {
		t.Helper()
		if r := as(args...); r.code != 0 {
			t.Fatalf("%v as a namespaced user: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
		}
	}
	testenv.Eventually(t, 10e9, func() error { // RBAC caches settle
		if r := as("list"); r.code != 0 {
			return errString(r.stderr)
		}
		return nil
	})
	must("install", "shop", webapp)
	must("upgrade", "shop", webapp, "--set", "replicas=3")
	must("rollback", "shop")
	must("history", "shop")
	must("status", "shop", "--show-resources")
	must("diff", "drift", "shop")
	must("uninstall", "shop", "--wait")
	// Outside its namespace, the error says what is missing.
	r := runCmd(t, testenv.PluginBinary(), []string{"KUBECONFIG=" + kc}, "list", "-A")
	if r.code == 0 || !strings.Contains(r.stderr, "forbidden") || !strings.Contains(r.stderr, `cannot list resource "secrets"`) {
		t.Fatalf("list -A without cluster rights: exit %d\n%s", r.code, r.stderr)
	}
	r = runCmd(t, testenv.PluginBinary(), []string{"KUBECONFIG=" + kc}, "install", "x", "../../examples/crd-app", "-n", ns)
	if r.code == 0 || !strings.Contains(r.stderr, "customresourcedefinitions") {
		t.Fatalf("a CRD without the right to create it: exit %d\n%s", r.code, r.stderr)
	}
}

// A user whose Role lacks one right gets an error naming the verb, the resource and the
// namespace, and nothing is left behind: no pending revision, the lock free.
func TestMissingRightNamed(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	admin := testenv.Clientset(t)
	ctx := context.Background()
	kc := testenv.ServiceAccountKubeconfig(t, ns, "partial")
	// Everything the web app needs, except any right on Services.
	rules := append(releases.StorageRBACRules(),
		rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "watch"}},
		rbacv1.PolicyRule{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete"}},
		rbacv1.PolicyRule{APIGroups: []string{"batch"}, Resources: []string{"jobs"}, Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete"}},
		rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"watch", "patch"}},
	)
	if _, err := admin.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "partial"}, Rules: rules}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "partial"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "partial"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "partial", Namespace: ns}}}
	if _, err := admin.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var r result
	testenv.Eventually(t, 10e9, func() error { // RBAC caches settle
		r = runCmd(t, testenv.PluginBinary(), []string{"KUBECONFIG=" + kc}, "install", "shop", webapp, "-n", ns, "--progress=none")
		if !strings.Contains(r.stderr, "services") {
			return errString(r.stderr)
		}
		return nil
	})
	if r.code == 0 || !regexp.MustCompile(`cannot (get|list|patch|create) resource "services" in API group "" in the namespace "`+ns+`"`).MatchString(r.stderr) {
		t.Fatalf("want an error naming verb, resource and namespace; exit %d\n%s", r.code, r.stderr)
	}
	assertClean(t, secretsStore(t), ns, "shop", "a forbidden install")
}

type errString string

func (e errString) Error() string { return string(e) }
