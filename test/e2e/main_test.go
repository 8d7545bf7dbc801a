// Package e2e drives the built kubectl-sherpack binary (and real kubectl) against the local
// control plane and asserts on what the API server reads back.
package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/sherpack/kubectl-sherpack/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// result is one command's outcome.
type result struct {
	stdout, stderr string
	code           int
}

// sherpack runs the plugin binary with the admin kubeconfig.
func sherpack(t *testing.T, args ...string) result {
	t.Helper()
	return runCmd(t, testenv.PluginBinary(), []string{"KUBECONFIG=" + testenv.Kubeconfig()}, args...)
}

func runCmd(t *testing.T, bin string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %s %v: %v", filepath.Base(bin), args, err)
	}
	return result{stdout: out.String(), stderr: errb.String(), code: code}
}
