package releases

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// User labels (--labels k=v) are put on the record objects next to sherpack's own labels, as
// Helm 4 does, so that list -l selects on them without reading any payload. Sherpack's own keys
// are reserved: a user label never replaces them.

// reservedLabel tells whether a key belongs to sherpack's record bookkeeping.
func reservedLabel(k string) bool {
	switch k {
	case labelOwner, labelName, labelVersion, labelStatus, labelReleaseNamespace, labelChunkGen:
		return true
	}
	return strings.HasPrefix(k, "sherpack.io/")
}

// ValidateUserLabels refuses keys sherpack reserves and keys or values Kubernetes refuses.
func ValidateUserLabels(l map[string]string) error {
	for k, v := range l {
		if reservedLabel(k) {
			return fmt.Errorf("label %q is reserved for the release record (owner, name, version, status, sherpack.io/*)", k)
		}
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			return fmt.Errorf("label key %q: %s", k, strings.Join(errs, "; "))
		}
		if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
			return fmt.Errorf("label %s=%q: %s", k, v, strings.Join(errs, "; "))
		}
	}
	return nil
}

// UserLabels are the labels of a record that are not sherpack's own (nil when none).
func UserLabels(l map[string]string) map[string]string {
	var out map[string]string
	for k, v := range l {
		if reservedLabel(k) {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[k] = v
	}
	return out
}

func withUserLabels(own, user map[string]string) map[string]string {
	for k, v := range UserLabels(user) {
		own[k] = v
	}
	return own
}
