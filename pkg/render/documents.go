package render

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/sherpack/kubectl-sherpack/pkg/manifest"
)

// Documents splits a template's output into its YAML documents, as written (key order and
// comments kept): a line that starts with "---" at column 0 ends a document, as in YAML.
// Documents with nothing but blank lines and comments are left out, and so are the blank lines
// before a document.
func Documents(out string) []string {
	var docs []string
	var cur []string
	flush := func() {
		for len(cur) > 0 && strings.TrimSpace(cur[0]) == "" {
			cur = cur[1:] // blank lines before the document (left by tags) are not part of it
		}
		doc := strings.Join(cur, "\n")
		if !onlyCommentsOrBlank(doc) {
			docs = append(docs, strings.TrimRight(doc, "\n")+"\n")
		}
		cur = nil
	}
	for _, line := range strings.Split(out, "\n") {
		if line == "---" || strings.HasPrefix(line, "--- ") || strings.HasPrefix(line, "---\t") || strings.HasPrefix(line, "---#") {
			flush()
			continue
		}
		cur = append(cur, line)
	}
	flush()
	return docs
}

var yamlLineRE = regexp.MustCompile(`^(?:invalid YAML: )?(?:yaml: )?line (\d+): `)

// invalidOutput explains a rendered output that is not valid YAML: the parser's message and
// the rendered lines around the one it names, numbered.
func invalidOutput(err error, file, out string) error {
	var de *manifest.DecodeError
	if !errors.As(err, &de) || !strings.HasPrefix(de.Msg, "invalid YAML") {
		return err // a valid document that is not an object names its own line
	}
	line := de.Line
	msg := de.Msg
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = strings.TrimPrefix(msg, m[0])
		msg = "invalid YAML: " + msg
	}
	var b strings.Builder
	fmt.Fprintf(&b, "the rendered output is not valid YAML (invalid YAML: %s)", strings.TrimPrefix(msg, "invalid YAML: "))
	if line > 0 {
		fmt.Fprintf(&b, " at line %d of the output:\n%s", line, excerpt(out, line, 3))
		b.WriteString("\nCheck the whitespace control (`{%-`, `-%}`) and the indent/nindent of the template lines that produce these.")
	}
	return &Error{Template: file, Msg: b.String()}
}

// excerpt numbers the lines of s around line (1-based), marking it.
func excerpt(s string, line, around int) string {
	lines := strings.Split(s, "\n")
	from, to := max(1, line-around), min(len(lines), line+around)
	width := len(strconv.Itoa(to))
	var b strings.Builder
	for i := from; i <= to; i++ {
		mark := "  "
		if i == line {
			mark = "> "
		}
		fmt.Fprintf(&b, "  %s%*d | %s\n", mark, width, i, lines[i-1])
	}
	return strings.TrimRight(b.String(), "\n")
}
