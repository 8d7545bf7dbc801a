package lint

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/sherpack/kubectl-sherpack/pkg/helmchart"
	"github.com/sherpack/kubectl-sherpack/pkg/manifest"
	"github.com/sherpack/kubectl-sherpack/pkg/pack"
	"github.com/sherpack/kubectl-sherpack/pkg/render"
)

// runChart lints a Helm chart: it is rendered by Helm's engine with its defaults and with the
// values given, and everything rendered goes through the same object checks as a pack's.
func runChart(dir string, o Options, rep *Report) *Report {
	chartFile := path.Join(dir, "Chart.yaml")
	ch, err := helmchart.Load(dir)
	if err != nil {
		rep.add(Finding{Severity: Error, File: chartFile, Check: "chart", Message: err.Error()})
		return rep.sorted()
	}
	if err := ch.Installable(); err != nil {
		rep.add(Finding{Severity: Error, File: chartFile, Check: "chart", Message: err.Error()})
		return rep.sorted()
	}
	md := ch.Pack().Metadata
	if _, err := semver.StrictNewVersion(md.Version); err != nil {
		rep.add(Finding{Severity: Error, File: chartFile, Check: "chart", Message: fmt.Sprintf("version %q is not a semantic version (x.y.z): Helm refuses to package the chart", md.Version)})
	}
	runLintRenders(rep, o, func(layers []pack.Layer) []Finding { return lintChartRender(dir, layers, o) })
	return rep.sorted()
}

// helmErrorRE matches the file and line Helm's engine puts in its errors:
// "template: chart/templates/x.yaml:12:5: executing ..." or "parse error at (chart/templates/x.yaml:3): ...".
var helmErrorRE = regexp.MustCompile(`([A-Za-z0-9_.\-]+/templates/[^\s:()]+):(\d+)`)

func lintChartRender(dir string, layers []pack.Layer, o Options) []Finding {
	ch, err := helmchart.Load(dir) // rendering changes the loaded chart: load it for each render
	if err != nil {
		return []Finding{{Severity: Error, File: path.Join(dir, "Chart.yaml"), Check: "chart", Message: err.Error()}}
	}
	out, err := ch.Render(layers, helmchart.Options{Release: render.ReleaseInfo{Name: o.ReleaseName, Namespace: o.Namespace, Revision: 1, IsInstall: true}})
	if err != nil {
		return []Finding{chartError(err, dir)}
	}
	objs := append(append(append([]*manifest.Object{}, out.CRDs...), out.Objects...), out.Hooks...)
	return checkObjects(objs, dir, o)
}

// chartError names the template file (under dir) and line of an engine error, or the schema
// for values the schema refused.
func chartError(err error, dir string) Finding {
	msg := err.Error()
	if strings.Contains(msg, "values don't meet the specifications of the schema") {
		return Finding{Severity: Error, File: path.Join(dir, "values.schema.json"), Check: "values-schema", Message: msg}
	}
	if m := helmErrorRE.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[2])
		return Finding{Severity: Error, File: sourceFile(m[1], dir), Line: n, Check: "render", Message: msg}
	}
	if m := fileLineRE.FindStringSubmatch(msg); m != nil { // an output that is not YAML
		n, _ := strconv.Atoi(m[2])
		return Finding{Severity: Error, File: sourceFile(m[1], dir), Line: n, Check: "render", Message: strings.TrimPrefix(msg, m[0])}
	}
	if m := fileRE.FindStringSubmatch(msg); m != nil {
		return Finding{Severity: Error, File: sourceFile(m[1], dir), Check: "render", Message: strings.TrimPrefix(msg, m[0])}
	}
	return Finding{Severity: Error, File: path.Join(dir, "Chart.yaml"), Check: "render", Message: msg}
}
