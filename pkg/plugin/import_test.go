package plugin

import (
	"bytes"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

func TestImportHelmRefusesBadInput(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"import"}, "import helm RELEASE"},
		{[]string{"import", "helm", "shop", "--helm-storage", "sql"}, "must be secret or configmap"},
		{[]string{"import", "helm", "shop", "--dry-run", "--delete-helm-records"}, "a dry run deletes nothing"},
		{[]string{"import", "helm", "shop", "--helm-field-manager", "sherpack"}, "--helm-field-manager"},
		{[]string{"import", "helm", "Bad_Name"}, "Bad_Name"},
		{[]string{"import", "helm", "shop", "-o", "nope"}, "--output"},
	}
	for _, tc := range tests {
		var out, errb bytes.Buffer
		cmd := NewRootCommand(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errb})
		cmd.SetArgs(append(tc.args, "--kubeconfig", "/nonexistent"))
		err := cmd.Execute()
		if err == nil || ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v (exit %d), want a usage error saying %q", tc.args, err, ExitCode(err), tc.want)
		}
		if out.Len() > 0 {
			t.Errorf("%v: printed %q", tc.args, out.String())
		}
	}
}
