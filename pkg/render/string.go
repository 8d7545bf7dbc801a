package render

import (
	"path"

	"github.com/sherpack/kubectl-sherpack/pkg/pack"
)

// StringOptions render one template source outside a pack.
type StringOptions struct {
	// Partials are other templates it may include or import, by name.
	Partials map[string]string
	// Lenient renders undefined values as empty (Pack.yaml engine.strict: false).
	Lenient bool
	// DropTrailingNewline drops the template's final newline, as Jinja2 does by default
	// (a pack's templates keep it).
	DropTrailingNewline bool
}

// RenderString renders src with data as its whole context and the pack environment (every
// filter, test and function a pack has; `values` and the others are whatever data holds).
func RenderString(name, src string, data map[string]any, o StringOptions) (string, error) {
	content := map[string]string{path.Join("/templates", name): src}
	for n, s := range o.Partials {
		content[path.Join("/templates", n)] = s
	}
	r := newRenderer(Options{}, content, !o.Lenient)
	r.keepTrailingNewline = !o.DropTrailingNewline
	pk := &pack.Pack{Files: map[string][]byte{}}
	values, _ := data["values"].(map[string]any)
	return r.renderOne(path.Join("/templates", name), name, name, pk, values, data)
}
