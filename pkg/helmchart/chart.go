// Package helmchart takes Helm charts as a source: a directory or .tgz with a Chart.yaml is
// loaded by Helm's own loader and rendered by Helm's own engine, and the result is handed to the
// rest of the plugin as a rendered pack (objects, hooks, CRDs, notes, values with provenance).
//
// Only Helm's chart loader, values, dependency and engine packages are used: nothing of Helm's
// actions, storage or Kubernetes client, so a chart renders exactly as `helm template` renders
// it while everything else (apply, hooks, waits, records) is ours.
package helmchart

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"

	"github.com/sherpack/kubectl-sherpack/pkg/pack"
)

// IsChart tells whether p is a Helm chart rather than a pack: a directory with a Chart.yaml and
// no Pack.yaml, or a .tgz/.tar.gz whose top folder holds one. A path that does not exist is
// not a chart (the caller reports it as a missing pack).
func IsChart(p string) bool {
	fi, err := os.Stat(p)
	if err != nil {
		return false
	}
	if fi.IsDir() {
		return exists(filepath.Join(p, "Chart.yaml")) && !exists(filepath.Join(p, "Pack.yaml"))
	}
	if !strings.HasSuffix(p, ".tgz") && !strings.HasSuffix(p, ".tar.gz") {
		return false
	}
	chartFile, packFile, _ := archiveTops(p)
	return chartFile && !packFile
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// archiveTops reads the archive's entries for <top>/Chart.yaml and <top>/Pack.yaml.
func archiveTops(p string) (chartFile, packFile bool, err error) {
	f, err := os.Open(p)
	if err != nil {
		return false, false, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return false, false, err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return chartFile, packFile, nil
		}
		if err != nil {
			return chartFile, packFile, err
		}
		parts := strings.Split(path.Clean(strings.TrimPrefix(h.Name, "./")), "/")
		if len(parts) != 2 {
			continue
		}
		switch parts[1] {
		case "Chart.yaml":
			chartFile = true
		case "Pack.yaml":
			packFile = true
		}
	}
}

// Chart is a loaded chart.
type Chart struct {
	// Root is where it was loaded from.
	Root  string
	chart *chart.Chart
}

// Load reads a chart with Helm's loader. Dependencies must be vendored in charts/ (as
// directories or .tgz): nothing is fetched from a repository.
func Load(p string) (*Chart, error) {
	c, err := loader.Load(p)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", p, err)
	}
	if err := missingDependencies(c, p); err != nil {
		return nil, err
	}
	return &Chart{Root: p, chart: c}, nil
}

// missingDependencies names the dependencies of Chart.yaml that are not vendored in charts/,
// with how to vendor them (Helm would fail on them too, later and less clearly).
func missingDependencies(c *chart.Chart, root string) error {
	have := map[string]bool{}
	for _, d := range c.Dependencies() {
		have[d.Name()] = true
	}
	var missing []string
	for _, d := range c.Metadata.Dependencies {
		if !have[d.Name] {
			missing = append(missing, d.Name)
		}
	}
	if len(missing) == 0 {
		for _, d := range c.Dependencies() {
			if err := missingDependencies(d, path.Join(root, "charts", d.Name())); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("chart %s: Chart.yaml lists dependencies that are not in its charts/ folder: %s. "+
		"Dependencies are read from charts/ only (no repository is contacted): vendor them with "+
		"`helm dependency build %s` (or `helm pull REPO/CHART --untar -d %s/charts`) and try again",
		root, strings.Join(missing, ", "), root, root)
}

// Name is the chart's name.
func (c *Chart) Name() string { return c.chart.Name() }

// IsLibrary tells whether the chart is a library chart (templates for other charts only).
func (c *Chart) IsLibrary() bool { return c.chart.Metadata.Type == "library" }

// Installable refuses library charts, as Helm does.
func (c *Chart) Installable() error {
	if c.IsLibrary() {
		return fmt.Errorf("chart %s (%s) is a library chart: it only holds templates for other charts and cannot be installed or rendered on its own", c.Name(), c.Root)
	}
	return nil
}

// Pack describes the chart as a pack for the release record: Chart.yaml's metadata as
// Pack.yaml's. Its templates are not there: a chart renders only through Render.
func (c *Chart) Pack() *pack.Pack {
	m := c.chart.Metadata
	md := pack.Metadata{
		Name: m.Name, Version: m.Version, AppVersion: m.AppVersion, Description: m.Description,
		Home: m.Home, Icon: m.Icon, Sources: m.Sources, Keywords: m.Keywords, Annotations: m.Annotations,
	}
	for _, mt := range m.Maintainers {
		if mt != nil {
			md.Maintainers = append(md.Maintainers, pack.Maintainer{Name: mt.Name, Email: mt.Email, URL: mt.URL})
		}
	}
	kind := pack.KindApplication
	if c.IsLibrary() {
		kind = pack.KindLibrary
	}
	return &pack.Pack{File: pack.File{APIVersion: "helm.sh/" + m.APIVersion, Kind: kind, Metadata: md}, Root: c.Root}
}
