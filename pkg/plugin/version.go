package plugin

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"
	"sigs.k8s.io/yaml"
)

// Set at build time with -ldflags "-X github.com/sherpack/kubectl-sherpack/pkg/plugin.version=v1.2.3 ...".
var (
	version   = "v0.0.0-dev"
	gitCommit = "unknown"
	buildDate = "unknown"
)

// VersionInfo is what `version -o json` prints.
type VersionInfo struct {
	Version         string `json:"version"`
	GitCommit       string `json:"gitCommit"`
	BuildDate       string `json:"buildDate"`
	GoVersion       string `json:"goVersion"`
	Platform        string `json:"platform"`
	ClientGoVersion string `json:"clientGoVersion"`
}

// VersionOptions is the `version` command.
type VersionOptions struct {
	Output string
	genericiooptions.IOStreams
}

// NewCmdVersion builds `kubectl sherpack version`.
func NewCmdVersion(streams genericiooptions.IOStreams) *cobra.Command {
	o := &VersionOptions{IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the plugin's version, git commit, Go and client library versions",
		Example: templates.Examples(`
			kubectl sherpack version
			kubectl sherpack version -o json`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run()
		},
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "Output format: json or yaml")
	return cmd
}

// Validate refuses an unknown output format.
func (o *VersionOptions) Validate() error {
	switch o.Output {
	case "", "json", "yaml":
		return nil
	}
	return Usagef("--output %q: must be json or yaml", o.Output)
}

// Run prints the version.
func (o *VersionOptions) Run() error {
	info := CurrentVersion()
	switch o.Output {
	case "json":
		b, _ := json.MarshalIndent(info, "", "  ")
		fmt.Fprintln(o.Out, string(b))
	case "yaml":
		b, _ := yaml.Marshal(info)
		fmt.Fprint(o.Out, string(b))
	default:
		fmt.Fprintf(o.Out, "kubectl-sherpack %s (commit %s, built %s, %s, %s, client-go %s)\n",
			info.Version, info.GitCommit, info.BuildDate, info.GoVersion, info.Platform, info.ClientGoVersion)
	}
	return nil
}

// CurrentVersion describes this binary.
func CurrentVersion() VersionInfo {
	info := VersionInfo{Version: version, GitCommit: gitCommit, BuildDate: buildDate,
		GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH, ClientGoVersion: "unknown"}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "k8s.io/client-go" {
				info.ClientGoVersion = d.Version
			}
		}
	}
	return info
}
