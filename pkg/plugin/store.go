package plugin

import (
	"fmt"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"

	"github.com/sherpack/kubectl-sherpack/pkg/releases"
)

// memoryDriver is shared by every command of one process (--storage memory keeps nothing
// across invocations: it is for tests and dry runs).
var memoryDriver = releases.NewMemoryDriver()

// Store builds the release store that --storage chooses.
func (g *Globals) Store() (*releases.Store, error) {
	var d releases.Driver
	switch g.Storage.Driver {
	case "secrets", "secret", "configmaps", "configmap":
		cfg, err := g.RESTConfig()
		if err != nil {
			return nil, err
		}
		cs, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			return nil, err
		}
		md, err := metadata.NewForConfig(cfg)
		if err != nil {
			return nil, err
		}
		opts := releases.KubeOptions{Namespace: g.Storage.Namespace}
		if g.Outage != nil {
			opts.Notify = g.Outage.Tell // a take-over that waits says so
		}
		if g.Storage.Driver[0] == 's' {
			d = releases.NewSecretsDriver(cs, md, opts)
		} else {
			d = releases.NewConfigMapsDriver(cs, md, opts)
		}
	case "file":
		fd, err := releases.NewFileDriver(g.Storage.Dir, releases.CompressionZstd)
		if err != nil {
			return nil, err
		}
		d = fd
	case "memory":
		d = memoryDriver
	default:
		return nil, Usagef("--storage %q: must be secrets, configmaps, file or memory (or set SHERPACK_STORAGE)", g.Storage.Driver)
	}
	s := releases.NewStore(d)
	s.LockTTL = g.Storage.LockTTL
	return s, nil
}

// Namespace is the namespace of the command: -n, else the kubeconfig context's, else default.
func (g *Globals) Namespace() (string, error) {
	ns, _, err := g.ConfigFlags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return "", fmt.Errorf("namespace: %w", err)
	}
	return ns, nil
}

// NamespaceAndStore is what every read command starts with.
func (g *Globals) NamespaceAndStore() (string, *releases.Store, error) {
	ns, err := g.Namespace()
	if err != nil {
		return "", nil, err
	}
	store, err := g.Store()
	if err != nil {
		return "", nil, err
	}
	return ns, store, nil
}
