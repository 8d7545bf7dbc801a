package releases

import (
	"testing"

	"github.com/sherpack/kubectl-sherpack/internal/testenv"
)

// The Secrets and ConfigMaps drivers and the Lease lock are tested against the real API server.
func TestMain(m *testing.M) { testenv.Main(m) }
