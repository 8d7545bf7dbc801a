package plugin

import (
	"os"

	"github.com/spf13/pflag"
)

// StorageFlags choose where releases are recorded.
type StorageFlags struct {
	Driver    string // secrets (default), configmaps, file, memory
	Namespace string // storage namespace; empty = the release namespace
	Dir       string // file driver directory
}

// AddFlags registers --storage, --storage-namespace and --storage-dir.
func (s *StorageFlags) AddFlags(fs *pflag.FlagSet) {
	def := os.Getenv("SHERPACK_STORAGE")
	if def == "" {
		def = "secrets"
	}
	fs.StringVar(&s.Driver, "storage", def, "Where releases are recorded: secrets, configmaps, file or memory (env SHERPACK_STORAGE)")
	fs.StringVar(&s.Namespace, "storage-namespace", os.Getenv("SHERPACK_STORAGE_NAMESPACE"), "Namespace of the release records (default: the release namespace)")
	fs.StringVar(&s.Dir, "storage-dir", os.Getenv("SHERPACK_STORAGE_DIR"), "Directory of the file driver (default: <user data dir>/sherpack/releases)")
}
