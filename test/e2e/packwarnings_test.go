package e2e

import (
	"strings"
	"testing"

	"github.com/sherpack/kubectl-sherpack/internal/testenv"
)

// An unknown Pack.yaml key does not stop install or upgrade, but each says so once on stderr,
// with file:line and the closest known key, as template and lint do.
func TestInstallAndUpgradeWarnOfUnknownPackKeys(t *testing.T) {
	t.Parallel()
	ns := testenv.Namespace(t)
	pk := writeFiles(t, map[string]string{
		"Pack.yaml":         "apiVersion: sherpack/v1\nmetadata:\n  name: warn\n  version: 0.1.0\n  descriptoin: typo\n",
		"values.yaml":       "{}\n",
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: warn}\ndata: {a: \"1\"}\n",
	})
	want := `Pack.yaml:5: unknown key "metadata.descriptoin" (did you mean "metadata.description"?)`
	for _, verb := range []string{"install", "upgrade"} {
		r := mustSherpack(t, verb, "warn", pk, "-n", ns, "--progress=none")
		if n := strings.Count(r.stderr, want); n != 1 {
			t.Fatalf("%s: want the warning once on stderr, got %d times:\n%s", verb, n, r.stderr)
		}
		if strings.Contains(r.stdout, "unknown key") {
			t.Fatalf("%s: warnings belong on stderr:\n%s", verb, r.stdout)
		}
	}
}
