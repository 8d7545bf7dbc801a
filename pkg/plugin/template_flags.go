package plugin

import (
	"path"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/spf13/cobra"

	"github.com/sherpack/kubectl-sherpack/pkg/render"
)

// TemplateCapabilityFlags are Helm's template flags that stand in for a cluster: the Kubernetes
// version and API versions the templates see, and whether they render as an upgrade.
type TemplateCapabilityFlags struct {
	KubeVersion string
	APIVersions []string
	IsUpgrade   bool
}

// AddFlags registers --kube-version, --api-versions and --is-upgrade.
func (f *TemplateCapabilityFlags) AddFlags(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.KubeVersion, "kube-version", "", "Kubernetes version the templates see as capabilities.kubeVersion (default v1.37.0), e.g. 1.30 or v1.30.2")
	fl.StringSliceVar(&f.APIVersions, "api-versions", nil, "Extra API versions the templates see in capabilities.apiVersions: group/version or group/version/Kind (repeatable)")
	fl.BoolVar(&f.IsUpgrade, "is-upgrade", false, "Render as an upgrade (release.isUpgrade true, release.isInstall false)")
}

// Capabilities are the defaults with the flags applied; nil when no flag was given.
func (f *TemplateCapabilityFlags) Capabilities() (*render.Capabilities, error) {
	if f.KubeVersion == "" && len(f.APIVersions) == 0 {
		return nil, nil
	}
	caps := render.DefaultCapabilities()
	if f.KubeVersion != "" {
		v, err := semver.NewVersion(f.KubeVersion)
		if err != nil {
			return nil, Usagef("--kube-version %q: not a version (e.g. 1.30 or v1.30.2): %v", f.KubeVersion, err)
		}
		caps.KubeVersion = "v" + v.String()
	}
	for _, a := range f.APIVersions {
		if a == "" || strings.Count(a, "/") > 2 {
			return nil, Usagef("--api-versions %q: give group/version (apps/v1) or group/version/Kind", a)
		}
		caps.APIVersions = append(caps.APIVersions, a)
	}
	return caps, nil
}

// Release is the release the templates see.
func (f *TemplateCapabilityFlags) Release(name, namespace string) render.ReleaseInfo {
	if f.IsUpgrade {
		return render.ReleaseInfo{Name: name, Namespace: namespace, Revision: 2, IsUpgrade: true}
	}
	return render.ReleaseInfo{Name: name, Namespace: namespace, Revision: 1, IsInstall: true}
}

// refuseServerAsShowOnly catches Helm's `template -s templates/x.yaml`: -s is kubectl's --server,
// which template never uses to render, so the path would be taken as an API server address and
// the whole pack printed. A value that looks like a template path is refused with the right flag.
func refuseServerAsShowOnly(server string) error {
	if server == "" {
		return nil
	}
	ext := path.Ext(server)
	if strings.HasPrefix(server, "templates/") || ext == ".yaml" || ext == ".yml" || ext == ".j2" || ext == ".tpl" || ext == ".txt" {
		return Usagef("-s %s: -s is kubectl's --server (the API server address), not a template. "+
			"To print only that template: --show-only %s", server, server)
	}
	return nil
}
