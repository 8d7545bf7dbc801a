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

// Dependency is a subpack the pack uses. It is read from the pack itself: charts/<name>/ (where
// upstream's dependency build vendors it), packs/<name>/, or the folder of a file:// repository.
// A remote repository must have been vendored into one of those.
type Dependency struct {
	Name       string `yaml:"name"`
	Version    string `yaml:"version,omitempty"`
	Repository string `yaml:"repository,omitempty"`
	Condition  string `yaml:"condition,omitempty"`
	Enabled    *bool  `yaml:"enabled,omitempty"`
	Alias      string `yaml:"alias,omitempty"`
	// Resolve: always, when-enabled (default) or never (a folder that is missing is then fine).
	Resolve string `yaml:"resolve,omitempty"`
	// Tags enable the dependency when any of them is true under values.tags (Helm's rule;
	// a condition that is set wins over tags).
	Tags []string `yaml:"tags,omitempty"`
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
	Engine       *Engine      `yaml:"engine,omitempty"`
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
	// Warnings found while loading (unknown Pack.yaml keys...), this pack's and its subpacks'.
	Warnings []Warning
}

// Subpack is a dependency and its loaded pack.
type Subpack struct {
	Dependency
	// Pack is nil when the dependency's folder is missing but it may be disabled: Missing says
	// why, and rendering it enabled is an error.
	Pack    *Pack
	Missing error
	// Dir is where it was found, relative to the parent pack (charts/x, packs/x, or a
	// file:// path).
	Dir string
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
	if err := decodeYAML(raw, &pk.File); err != nil {
		return nil, fmt.Errorf("%s: %w", path.Join(root, "Pack.yaml"), err)
	}
	pk.Warnings = unknownKeys(raw, path.Join(root, "Pack.yaml"))
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
		if sub.Pack != nil {
			pk.Warnings = append(pk.Warnings, sub.Pack.Warnings...)
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
		switch d.Resolve {
		case "", "always", "when-enabled", "never":
		default:
			return fmt.Errorf("dependencies[%d] (%s): resolve %q: must be always, when-enabled or never", i, d.Name, d.Resolve)
		}
		if d.Version != "" {
			if _, err := semver.NewConstraint(d.Version); err != nil {
				return fmt.Errorf("dependencies[%d] (%s): version %q is not a constraint: %v", i, d.Name, d.Version, err)
			}
		}
	}
	return nil
}

// loadDependency finds a subpack in the pack: charts/<name>/ or packs/<name>/ (or under its
// alias), or the folder a file:// repository names. A dependency that is statically disabled or
// never resolved may be missing; one that a condition or tags may disable is kept as missing and
// only an error if it turns out enabled.
func (pk *Pack) loadDependency(dep Dependency, depth int) (*Subpack, error) {
	file := path.Join(pk.Root, "Pack.yaml")
	var cands []string
	if rel, ok := strings.CutPrefix(dep.Repository, "file://"); ok {
		rel = path.Clean(strings.TrimPrefix(rel, "./"))
		if !path.IsAbs(rel) && rel != ".." && !strings.HasPrefix(rel, "../") {
			cands = append(cands, rel+"/")
		} else if sub, err := loadOutside(pk.Root, rel, depth); err != nil || sub != nil {
			if err != nil {
				return nil, fmt.Errorf("%s: dependency %s (repository %s): %w", file, dep.Name, dep.Repository, err)
			}
			return pk.checkDependency(dep, sub, dep.Repository)
		}
	}
	for _, dir := range []string{"charts", "packs"} {
		cands = append(cands, dir+"/"+dep.Name+"/")
		if dep.Alias != "" {
			cands = append(cands, dir+"/"+dep.Alias+"/")
		}
	}
	var prefix string
	for _, cand := range cands {
		if _, ok := pk.Files[cand+"Pack.yaml"]; ok {
			prefix = cand
			break
		}
	}
	if prefix == "" {
		where := "charts/" + dep.Name + "/ or packs/" + dep.Name + "/"
		msg := fmt.Errorf("%s: dependency %s: no pack at %s (a subpack must have its Pack.yaml there)", file, dep.Name, where)
		if dep.Repository != "" && !strings.HasPrefix(dep.Repository, "file://") {
			msg = fmt.Errorf("%s: dependency %s comes from repository %s and must be vendored: put the pack under charts/%s/ (for example with `tar -xzf` of its archive); it was not found there nor under packs/%s/",
				file, dep.Name, dep.Repository, dep.Name, dep.Name)
		}
		if (dep.Enabled != nil && !*dep.Enabled) || dep.Resolve == "never" {
			return &Subpack{Dependency: dep, Missing: msg}, nil
		}
		if dep.Condition != "" || len(dep.Tags) > 0 {
			return &Subpack{Dependency: dep, Missing: msg}, nil
		}
		return nil, msg
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
	return pk.checkDependency(dep, child, strings.TrimSuffix(prefix, "/"))
}

// loadOutside loads a file:// dependency outside the pack, when the pack is a directory on disk.
func loadOutside(root, rel string, depth int) (*Pack, error) {
	st, err := os.Stat(root)
	if err != nil || !st.IsDir() {
		return nil, nil
	}
	dir := rel
	if !filepath.IsAbs(rel) {
		dir = filepath.Join(root, filepath.FromSlash(rel))
	}
	files, err := readDir(dir)
	if err != nil {
		return nil, err
	}
	return fromFiles(dir, files, depth+1)
}

func (pk *Pack) checkDependency(dep Dependency, child *Pack, where string) (*Subpack, error) {
	if dep.Version != "" {
		c, _ := semver.NewConstraint(dep.Version)
		v, _ := semver.NewVersion(child.Metadata.Version)
		if !c.Check(v) {
			return nil, fmt.Errorf("%s: dependency %s wants version %s; %s has %s", path.Join(pk.Root, "Pack.yaml"), dep.Name, dep.Version, where, child.Metadata.Version)
		}
	}
	return &Subpack{Dependency: dep, Pack: child, Dir: where}, nil
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

// decodeYAML decodes Pack.yaml; unknown keys are reported as warnings by unknownKeys.
func decodeYAML(raw []byte, into any) error {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
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
