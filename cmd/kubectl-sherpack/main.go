// Command kubectl-sherpack is the kubectl plugin: `kubectl sherpack ...`.
package main

import (
	"fmt"
	"os"

	"k8s.io/cli-runtime/pkg/genericiooptions"
	// Auth provider plugins, as kubectl links them: kubeconfigs whose user has an
	// auth-provider (oidc; gcp and azure now point to their exec plugins) work.
	_ "k8s.io/client-go/plugin/pkg/client/auth"

	"github.com/sherpack/kubectl-sherpack/pkg/plugin"
)

func main() {
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	cmd := plugin.NewRootCommand(streams)
	err := cmd.Execute()
	if err != nil && plugin.ErrorMessage(err) != "" {
		fmt.Fprintln(os.Stderr, "Error:", plugin.ErrorMessage(err))
	}
	os.Exit(plugin.ExitCode(err))
}
