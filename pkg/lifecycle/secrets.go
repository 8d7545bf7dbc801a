package lifecycle

import (
	"github.com/sherpack/kubectl-sherpack/pkg/releases"
	"github.com/sherpack/kubectl-sherpack/pkg/render"
)

// The values generate_secret gives are recorded in the release and given again to the next
// render, so that an upgrade (or a diff of one) does not rotate them. This file is the only
// place that carries them between revisions.

// withPreviousSecrets is info with the secrets the base revision generated.
func withPreviousSecrets(info render.ReleaseInfo, base *releases.Release) render.ReleaseInfo {
	if base != nil && len(base.GeneratedSecrets) > 0 {
		info.Secrets = base.GeneratedSecrets
	}
	return info
}

// recordSecrets keeps what this render generated in the new revision.
func recordSecrets(rel *releases.Release, r *Rendered) {
	if r != nil && r.Result != nil && len(r.Secrets) > 0 {
		rel.GeneratedSecrets = r.Secrets
	}
}
