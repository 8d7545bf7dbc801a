package plugin

import (
	"os"
	"time"

	"github.com/spf13/pflag"
)

// StorageFlags choose where releases are recorded.
type StorageFlags struct {
	Driver    string // secrets (default), configmaps, file, memory
	Namespace string // storage namespace; empty = the release namespace
	Dir       string // file driver directory
	LockTTL   time.Duration
}

// AddFlags registers --storage, --storage-namespace and --storage-dir.
func (s *StorageFlags) AddFlags(fs *pflag.FlagSet) {
	def := os.Getenv("SHERPACK_STORAGE")
	if def == "" {
		def = "secrets"
	}
	fs.StringVar(&s.Driver, "storage", def, "Where releases are recorded: secrets, configmaps, file or memory (env SHERPACK_STORAGE)")
	fs.StringVar(&s.Namespace, "storage-namespace", os.Getenv("SHERPACK_STORAGE_NAMESPACE"), "Namespace of the release records (default: the release namespace)")
	if s.LockTTL == 0 {
		s.LockTTL = 30 * time.Second
	}
	fs.DurationVar(&s.LockTTL, "lock-ttl", s.LockTTL, "How long a release lock outlives its holder when that process dies (it is renewed every third of it while the operation runs)")
	fs.StringVar(&s.Dir, "storage-dir", os.Getenv("SHERPACK_STORAGE_DIR"), "Directory of the file driver (default: <user data dir>/sherpack/releases)")
}
