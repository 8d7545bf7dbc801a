package render

import (
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/sherpack/kubectl-sherpack/internal/jinja/loaders"
)

// packLoader serves every template of a pack tree from memory. A name is looked up next to the
// template that includes it, then at the root of its pack's templates/, then at the top pack's
// templates/ (where library packs are mounted under their name: "mylib/_macros.j2").
type packLoader struct {
	content map[string]string // "/templates/<pack path>/<name>" -> source
	dir     string
}

var _ loaders.Loader = (*packLoader)(nil)

func (l *packLoader) Read(p string) (io.Reader, error) {
	r, err := l.Resolve(p)
	if err != nil {
		return nil, err
	}
	return strings.NewReader(l.content[r]), nil
}

func (l *packLoader) Resolve(p string) (string, error) {
	if strings.HasPrefix(p, "/") {
		if _, ok := l.content[p]; ok {
			return p, nil
		}
		return "", fmt.Errorf("template %q not found", p)
	}
	for _, dir := range l.searchPath() {
		cand := path.Join(dir, p)
		if _, ok := l.content[cand]; ok {
			return cand, nil
		}
	}
	return "", fmt.Errorf("template %q not found (looked next to %s and in templates/)", p, strings.TrimPrefix(l.dir, "/"))
}

// searchPath is the including template's directory and each enclosing templates/ root.
func (l *packLoader) searchPath() []string {
	out := []string{l.dir}
	d := l.dir
	for d != "/" && d != "." {
		if path.Base(d) == "templates" || strings.HasSuffix(path.Dir(d), "/templates") {
			out = append(out, d)
		}
		d = path.Dir(d)
	}
	return append(out, "/templates")
}

func (l *packLoader) Inherit(from string) (loaders.Loader, error) {
	dir := l.dir
	if from != "" {
		r, err := l.Resolve(from)
		if err != nil {
			return nil, err
		}
		dir = path.Dir(r)
	}
	return &packLoader{content: l.content, dir: dir}, nil
}
