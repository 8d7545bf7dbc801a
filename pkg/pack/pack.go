// Package pack loads packs (a directory or a .tgz of one: Pack.yaml, values.yaml, an optional
// values schema, templates/, crds/, local subpacks under packs/), and merges values from every
// source with the provenance of each key.
package pack

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
	"go.yaml.in/yaml/v3"
)

// Kinds of pack.
const (
	KindApplication = "application"
	KindLibrary     = "library"
)

// Metadata is Pack.yaml's metadata block.
type Metadata struct {
	Name        string            `yaml:"name" json:"name"`
	Version     string            `yaml:"version" json:"version"`
	AppVersion  string            `yaml:"appVersion,omitempty" json:"appVersion,omitempty"`
	Description string            `yaml:"description,omitempty" json:"description,omitempty"`
	KubeVersion string            `yaml:"kubeVersion,omitempty" json:"kubeVersion,omitempty"`
	Home        string            `yaml:"home,omitempty" json:"home,omitempty"`
	Icon        string            `yaml:"icon,omitempty" json:"icon,omitempty"`
	Sources     []string          `yaml:"sources,omitempty" json:"sources,omitempty"`
	Keywords    []string          `yaml:"keywords,omitempty" json:"keywords,omitempty"`
	Maintainers []Maintainer      `yaml:"maintainers,omitempty" json:"maintainers,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty" json:"annotations,omitempty"`
}

// Maintainer of a pack.
type Maintainer struct {
	Name  string `yaml:"name" json:"name"`
	Email string `yaml:"email,omitempty" json:"email,omitempty"`
	URL   string `yaml:"url,omitempty" json:"url,omitempty"`
}

// Dependency is a subpack the pack uses. Only local ones (under packs/) are supported.
type Dependency struct {
	Name       string `yaml:"name"`
	Version    string `yaml:"version,omitempty"`
	Repository string `yaml:"repository,omitempty"`
	Condition  string `yaml:"condition,omitempty"`
	Enabled    *bool  `yaml:"enabled,omitempty"`
	Alias      string `yaml:"alias,omitempty"`
}

// EffectiveName is the alias if set, else the name: the key of its values and output.
func (d Dependency) EffectiveName() string {
	if d.Alias != "" {
		return d.Alias
	}
	return d.Name
}

// File is Pack.yaml.
type File struct {
	APIVersion   string       `yaml:"apiVersion"`
	Kind         string       `yaml:"kind,omitempty"`
	Metadata     Metadata     `yaml:"metadata"`
	Dependencies []Dependency `yaml:"dependencies,omitempty"`
	// CRDs is how the pack's CustomResourceDefinitions are installed, upgraded and kept (crds.go).
	CRDPolicy *CRDPolicy `yaml:"crds,omitempty"`
}

// Pack is a loaded pack, its files held in memory.
type Pack struct {
	File
	// Root is where the pack was loaded from (directory or archive path).
	Root string
	// Files are every file of the pack by slash path relative to its root.
	Files map[string][]byte
	// Values are the defaults of values.yaml (nil if none).
	Values map[string]any
	// Subpacks are the loaded dependencies, in Pack.yaml order.
	Subpacks []*Subpack
}

// Subpack is a dependency and its loaded pack.
type Subpack struct {
	Dependency
	Pack *Pack
}

// MaxDepth bounds subpack nesting.
const MaxDepth = 10

// Load reads a pack from a directory or a .tgz/.tar.gz archive of one.
func Load(p string) (*Pack, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("pack %s: %w", p, err)
	}
	var files map[string][]byte
	if st.IsDir() {
		files, err = readDir(p)
	} else {
		files, err = readArchive(p)
	}
	if err != nil {
		return nil, err
	}
	return fromFiles(p, files, 0)
}

// FromFiles builds a pack from in-memory files (slash paths relative to the pack root).
func FromFiles(root string, files map[string][]byte) (*Pack, error) { return fromFiles(root, files, 0) }

func fromFiles(root string, files map[string][]byte, depth int) (*Pack, error) {
	if depth > MaxDepth {
		return nil, fmt.Errorf("pack %s: subpacks nested deeper than %d", root, MaxDepth)
	}
	raw, ok := files["Pack.yaml"]
	if !ok {
		return nil, fmt.Errorf("%s is not a pack: no Pack.yaml at its root", root)
	}
	pk := &Pack{Root: root, Files: files}
	if err := decodeStrict(raw, &pk.File); err != nil {
		return nil, fmt.Errorf("%s: %w", path.Join(root, "Pack.yaml"), err)
	}
	if err := pk.validateFile(); err != nil {
		return nil, fmt.Errorf("%s: %w", path.Join(root, "Pack.yaml"), err)
	}
	if v, ok := files["values.yaml"]; ok {
		vals, err := DecodeValues(v, path.Join(root, "values.yaml"))
		if err != nil {
			return nil, err
		}
		pk.Values = vals
	}
	for _, dep := range pk.Dependencies {
		sub, err := pk.loadDependency(dep, depth)
		if err != nil {
			return nil, err
		}
		pk.Subpacks = append(pk.Subpacks, sub)
	}
	return pk, nil
}

func (pk *Pack) validateFile() error {
	if pk.APIVersion != "sherpack/v1" {
		return fmt.Errorf("apiVersion %q: must be sherpack/v1", pk.APIVersion)
	}
	switch pk.Kind {
	case "":
		pk.Kind = KindApplication
	case KindApplication, KindLibrary:
	default:
		return fmt.Errorf("kind %q: must be application or library", pk.Kind)
	}
	if pk.Metadata.Name == "" {
		return errors.New("metadata.name is required")
	}
	if pk.Metadata.Version == "" {
		return errors.New("metadata.version is required (strict semver, like 1.2.0)")
	}
	if _, err := semver.StrictNewVersion(pk.Metadata.Version); err != nil {
		return fmt.Errorf("metadata.version %q is not strict semver (like 1.2.0): %v", pk.Metadata.Version, err)
	}
	if pk.Metadata.KubeVersion != "" {
		if _, err := semver.NewConstraint(pk.Metadata.KubeVersion); err != nil {
			return fmt.Errorf("metadata.kubeVersion %q is not a version constraint: %v", pk.Metadata.KubeVersion, err)
		}
	}
	if err := pk.CRDPolicy.Validate(); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, d := range pk.Dependencies {
		if d.Name == "" {
			return fmt.Errorf("dependencies[%d]: name is required", i)
		}
		if seen[d.EffectiveName()] {
			return fmt.Errorf("dependencies[%d]: %q appears twice (use alias to include a pack twice)", i, d.EffectiveName())
		}
		seen[d.EffectiveName()] = true
		if d.Version != "" {
			if _, err := semver.NewConstraint(d.Version); err != nil {
				return fmt.Errorf("dependencies[%d] (%s): version %q is not a constraint: %v", i, d.Name, d.Version, err)
			}
		}
	}
	return nil
}

// loadDependency finds a local subpack under packs/<name>/ (or packs/<alias>/).
func (pk *Pack) loadDependency(dep Dependency, depth int) (*Subpack, error) {
	repo := dep.Repository
	if repo != "" && !strings.HasPrefix(repo, "file://") {
		return nil, fmt.Errorf("%s: dependency %s comes from repository %s: remote repositories are not supported; put the pack under packs/%s/ (for example with `tar -xzf` of the archive) and drop the repository field",
			path.Join(pk.Root, "Pack.yaml"), dep.Name, repo, dep.Name)
	}
	var prefix string
	for _, cand := range []string{"packs/" + dep.Name + "/", "packs/" + dep.EffectiveName() + "/"} {
		if _, ok := pk.Files[cand+"Pack.yaml"]; ok {
			prefix = cand
			break
		}
	}
	if prefix == "" {
		return nil, fmt.Errorf("%s: dependency %s: no pack at packs/%s/ (a local subpack must have its Pack.yaml there)", path.Join(pk.Root, "Pack.yaml"), dep.Name, dep.Name)
	}
	sub := map[string][]byte{}
	for name, data := range pk.Files {
		if rest, ok := strings.CutPrefix(name, prefix); ok {
			sub[rest] = data
		}
	}
	child, err := fromFiles(path.Join(pk.Root, strings.TrimSuffix(prefix, "/")), sub, depth+1)
	if err != nil {
		return nil, err
	}
	if dep.Version != "" {
		c, _ := semver.NewConstraint(dep.Version)
		v, _ := semver.NewVersion(child.Metadata.Version)
		if !c.Check(v) {
			return nil, fmt.Errorf("%s: dependency %s wants version %s; packs/%s has %s", path.Join(pk.Root, "Pack.yaml"), dep.Name, dep.Version, dep.Name, child.Metadata.Version)
		}
	}
	return &Subpack{Dependency: dep, Pack: child}, nil
}

// Installable refuses a library pack: it only provides macros to the packs that use it.
func (pk *Pack) Installable() error {
	if pk.Kind == KindLibrary {
		return fmt.Errorf("pack %s is a library pack: it cannot be installed or rendered on its own; add it as a dependency of an application pack and import its macros", pk.Metadata.Name)
	}
	return nil
}

// CheckKubeVersion enforces metadata.kubeVersion against the cluster's version.
func (pk *Pack) CheckKubeVersion(clusterVersion string) error {
	if pk.Metadata.KubeVersion == "" || clusterVersion == "" {
		return nil
	}
	c, err := semver.NewConstraint(pk.Metadata.KubeVersion)
	if err != nil {
		return err
	}
	v, err := semver.NewVersion(strings.SplitN(strings.TrimPrefix(clusterVersion, "v"), "+", 2)[0])
	if err != nil {
		return fmt.Errorf("cluster version %q: %w", clusterVersion, err)
	}
	// Pre-release builds of Kubernetes (1.37.0-rc.1) still count as 1.37.0.
	if v.Prerelease() != "" {
		nv, _ := v.SetPrerelease("")
		v = &nv
	}
	if !c.Check(v) {
		return fmt.Errorf("pack %s needs Kubernetes %s; the cluster runs %s", pk.Metadata.Name, pk.Metadata.KubeVersion, clusterVersion)
	}
	return nil
}

// Templates are the files under templates/, by name relative to templates/, sorted.
func (pk *Pack) Templates() []string {
	var out []string
	for name := range pk.Files {
		if rest, ok := strings.CutPrefix(name, "templates/"); ok && rest != "" {
			out = append(out, rest)
		}
	}
	sort.Strings(out)
	return out
}

// CRDs are the files under crds/ (YAML, applied as they are: never templated).
func (pk *Pack) CRDs() []string {
	var out []string
	for name := range pk.Files {
		if strings.HasPrefix(name, "crds/") && (strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml") || strings.HasSuffix(name, ".json")) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

func decodeStrict(raw []byte, into any) error {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(into); err != nil && !errors.Is(err, io.EOF) {
		return errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return nil
}

// maxPackSize bounds what a pack may hold, so a hostile archive cannot exhaust memory.
const maxPackSize = 64 << 20

func readDir(root string) (map[string][]byte, error) {
	files := map[string][]byte{}
	total := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			// Follow a link only to a file inside the pack: the pack is a sandbox.
			target, err := filepath.EvalSymlinks(p)
			if err != nil {
				return fmt.Errorf("pack %s: %s: %w", root, rel, err)
			}
			absRoot, _ := filepath.EvalSymlinks(root)
			if r, err := filepath.Rel(absRoot, target); err != nil || strings.HasPrefix(r, "..") {
				return fmt.Errorf("pack %s: %s links outside the pack (%s)", root, rel, target)
			}
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		total += len(data)
		if total > maxPackSize {
			return fmt.Errorf("pack %s is larger than %d MiB", root, maxPackSize>>20)
		}
		files[rel] = data
		return nil
	})
	if err != nil {
		return nil, err
	}
	return files, nil
}

// readArchive reads a .tgz of a pack; a single top-level directory is stripped, as in Helm's archives.
func readArchive(p string) (map[string][]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("pack %s: not a directory or a .tgz archive: %w", p, err)
	}
	tr := tar.NewReader(gz)
	files := map[string][]byte{}
	total := 0
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("pack %s: %w", p, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		name := path.Clean(strings.TrimPrefix(h.Name, "./"))
		if path.IsAbs(name) || strings.HasPrefix(name, "../") || name == ".." {
			return nil, fmt.Errorf("pack %s: entry %q escapes the archive", p, h.Name)
		}
		data, err := io.ReadAll(io.LimitReader(tr, maxPackSize+1))
		if err != nil {
			return nil, fmt.Errorf("pack %s: %s: %w", p, name, err)
		}
		total += len(data)
		if total > maxPackSize {
			return nil, fmt.Errorf("pack %s is larger than %d MiB", p, maxPackSize>>20)
		}
		files[name] = data
	}
	if _, ok := files["Pack.yaml"]; !ok {
		// Strip one top-level directory (mypack/Pack.yaml).
		var top string
		for name := range files {
			if i := strings.IndexByte(name, '/'); i > 0 && strings.HasSuffix(name, "/Pack.yaml") && strings.Count(name, "/") == 1 {
				top = name[:i+1]
			}
		}
		if top != "" {
			stripped := map[string][]byte{}
			for name, data := range files {
				if rest, ok := strings.CutPrefix(name, top); ok {
					stripped[rest] = data
				}
			}
			files = stripped
		}
	}
	return files, nil
}
