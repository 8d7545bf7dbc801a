package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sherpack/kubectl-sherpack/internal/testenv"
)

// kubectlComplete runs real kubectl's completion of `kubectl sherpack ...` the way a shell does
// (kubectl __complete sherpack WORDS... ""), with only the plugin and its completion helper on
// PATH next to the system's sh. It returns the completions (without the directive line).
func kubectlComplete(t *testing.T, words ...string) []string {
	t.Helper()
	bin := t.TempDir()
	if err := os.Symlink(testenv.PluginBinary(), filepath.Join(bin, "kubectl-sherpack")); err != nil {
		t.Fatal(err)
	}
	helper := filepath.Join(testenv.ProjectRoot(), "hack", "completion", "kubectl_complete-sherpack")
	if err := os.Symlink(helper, filepath.Join(bin, "kubectl_complete-sherpack")); err != nil {
		t.Fatal(err)
	}
	kubectl := filepath.Join(testenv.ToolsDir(), "kubectl")
	env := []string{"PATH=" + bin + ":/usr/bin:/bin", "KUBECONFIG=" + testenv.Kubeconfig(), "HOME=" + t.TempDir()}
	r := runCmd(t, kubectl, env, append([]string{"__complete", "sherpack"}, words...)...)
	if r.code != 0 {
		t.Fatalf("kubectl __complete sherpack %v: exit %d\n%s%s", words, r.code, r.stdout, r.stderr)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if l != "" && !strings.HasPrefix(l, ":") {
			out = append(out, l)
		}
	}
	return out
}

func hasCompletion(got []string, want string) bool {
	for _, g := range got {
		if g == want || strings.HasPrefix(g, want+"\t") {
			return true
		}
	}
	return false
}

// `kubectl sherpack <TAB>` through real kubectl: verbs, release names from the cluster,
// revisions, -o values, namespaces and kubeconfig contexts.
func TestCompletionThroughKubectl(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	dir := writeFiles(t, map[string]string{
		"one.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: comp-one}\ndata: {a: b}\n",
		"two.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: comp-two}\ndata: {a: b}\n",
	})
	one, two := filepath.Join(dir, "one.yaml"), filepath.Join(dir, "two.yaml")
	mustSherpack(t, "install", "comp-one", "-f", one, "-n", ns)
	mustSherpack(t, "upgrade", "comp-one", "-f", one, "-n", ns)
	mustSherpack(t, "install", "comp-two", "-f", two, "-n", ns)

	verbs := kubectlComplete(t, "")
	for _, v := range []string{"install", "upgrade", "rollback", "uninstall", "list", "diff", "options"} {
		if !hasCompletion(verbs, v) {
			t.Errorf("kubectl sherpack <TAB> lacks %s: %v", v, verbs)
		}
	}
	names := kubectlComplete(t, "rollback", "-n", ns, "")
	if !hasCompletion(names, "comp-one") || !hasCompletion(names, "comp-two") {
		t.Errorf("release names: %v", names)
	}
	if got := kubectlComplete(t, "status", "-n", ns, "comp-t"); len(got) != 1 || got[0] != "comp-two" {
		t.Errorf("prefix comp-t: %v", got)
	}
	revs := kubectlComplete(t, "rollback", "-n", ns, "comp-one", "")
	if len(revs) != 2 || revs[0] != "2\tdeployed" || revs[1] != "1\tsuperseded" {
		t.Errorf("revisions of comp-one, newest first with their state: %q", revs)
	}
	if got := kubectlComplete(t, "get", "values", "comp-one", "-n", ns, "--revision", ""); !hasCompletion(got, "1") {
		t.Errorf("--revision: %v", got)
	}
	outs := kubectlComplete(t, "list", "-o", "")
	for _, f := range []string{"json", "yaml", "name", "jsonpath=", "custom-columns="} {
		if !hasCompletion(outs, f) {
			t.Errorf("-o lacks %s: %v", f, outs)
		}
	}
	if got := kubectlComplete(t, "install", "x", "-o", "j"); !hasCompletion(got, "json") || hasCompletion(got, "wide") {
		t.Errorf("install -o j: %v", got)
	}
	if got := kubectlComplete(t, "list", "-n", ns[:len(ns)-2]); !hasCompletion(got, ns) {
		t.Errorf("namespaces from the cluster: %q lacks %s", got, ns)
	}
	if got := kubectlComplete(t, "list", "--context", ""); len(got) == 0 {
		t.Errorf("--context completes nothing")
	}
}

// The scripts of `completion SHELL` register the executable's name, kubectl-sherpack.
func TestCompletionScriptsNameTheExecutable(t *testing.T) {
	t.Parallel()
	for shell, want := range map[string]string{
		"bash": "__start_kubectl-sherpack kubectl-sherpack",
		"zsh":  "#compdef kubectl-sherpack",
		"fish": "complete -c kubectl-sherpack",
	} {
		r := mustSherpack(t, "completion", shell)
		if !strings.Contains(r.stdout, want) {
			t.Errorf("completion %s does not register kubectl-sherpack (%q):\n%.400s", shell, want, r.stdout)
		}
	}
}
