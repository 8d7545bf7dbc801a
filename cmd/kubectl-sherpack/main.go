// Command kubectl-sherpack is the kubectl plugin: `kubectl sherpack ...`.
package main

import (
	"context"
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
	ctx, signals := plugin.HandleSignals(context.Background())
	cmd := plugin.NewRootCommand(streams)
	err := cmd.ExecuteContext(plugin.WithSignals(ctx, signals))
	signals.Stop()
	if err != nil && plugin.ErrorMessage(err) != "" {
		fmt.Fprintln(os.Stderr, "Error:", plugin.ErrorMessage(err))
	}
	code := plugin.ExitCode(err)
	if ie := signals.Interrupted(); ie != nil {
		code = ie.ExitCode() // 130 (SIGINT), 143 (SIGTERM), 129 (SIGHUP), as shells report a killed command
	}
	os.Exit(code)
}
