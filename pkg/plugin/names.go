package plugin

import "github.com/sherpack/kubectl-sherpack/pkg/releases"

func validateReleaseName(name string) error {
	if err := releases.ValidateName(name); err != nil {
		return &UsageError{Msg: err.Error()}
	}
	return nil
}
