package render

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/sherpack/kubectl-sherpack/internal/suggest"
)

var (
	lineRE      = regexp.MustCompile(`at line (\d+)`)
	exprRE      = regexp.MustCompile(`at line \d+: ([A-Za-z_][\w.\[\]'"]*)\s*:`)
	notFoundRE  = regexp.MustCompile(`(?:attribute|item) '([^']+)' not found`)
	undefNameRE = regexp.MustCompile(`Unable to evaluate name "([^"]+)"`)
	deepRE      = regexp.MustCompile(`macro \S+: calls nested deeper than \d+ \([^)]*\)`)
)

func lineOf(msg string) int {
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

// executionError turns gonja's error into one that names the file and line, says which value
// is undefined and suggests the closest key.
func executionError(err error, file string, values map[string]any) error {
	var fe *failError
	if errors.As(err, &fe) {
		return &Error{Template: file, Line: lineOf(err.Error()), Msg: fe.Error()}
	}
	var re *requiredError
	if errors.As(err, &re) {
		return &Error{Template: file, Line: lineOf(err.Error()), Msg: re.Error()}
	}
	msg := err.Error()
	line := lineOf(msg)
	if m := deepRE.FindString(msg); m != "" {
		return &Error{Template: file, Line: line, Msg: m}
	}
	if m := notFoundRE.FindStringSubmatch(msg); m != nil {
		if e := exprRE.FindStringSubmatch(msg); e != nil && strings.HasPrefix(e[1], "values.") {
			return &Error{Template: file, Line: line, Msg: undefinedValue(e[1], values)}
		}
	}
	if m := undefNameRE.FindStringSubmatch(msg); m != nil {
		hint := ""
		if strings.HasPrefix(m[1], "value") {
			hint = ` Did you mean "values"?`
		}
		return &Error{Template: file, Line: line, Msg: fmt.Sprintf("%s is undefined: the template context has values, release, pack, capabilities, files and template.%s", m[1], hint)}
	}
	msg = strings.TrimPrefix(msg, "unable to execute template: ")
	msg = lineRE.ReplaceAllString(msg, "")
	msg = strings.TrimPrefix(strings.TrimSpace(strings.TrimPrefix(msg, "Unable to render expression")), ":")
	return &Error{Template: file, Line: line, Msg: strings.TrimSpace(msg)}
}

// undefinedValue explains values.a.b.c: which key is missing where, and the closest one there.
func undefinedValue(expr string, values map[string]any) string {
	segs := strings.Split(strings.TrimPrefix(expr, "values."), ".")
	var cur any = values
	at := "values"
	for i, seg := range segs {
		m, ok := cur.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s is undefined: %s is a %s, not a mapping with key %q", expr, at, typeName(cur), seg)
		}
		next, ok := m[seg]
		if !ok {
			msg := fmt.Sprintf("%s is undefined: no key %q in %s.", expr, seg, at)
			if best := closest(seg, keysOf(m)); best != "" {
				fixed := append(append([]string{}, segs[:i]...), best)
				fixed = append(fixed, segs[i+1:]...)
				msg += fmt.Sprintf(" Did you mean %q?", best)
				path := "values." + strings.Join(fixed, ".")
				if v, ok := walk(values, fixed); ok {
					msg += fmt.Sprintf(" (%s = %s)", path, short(v))
				}
			} else if len(m) > 0 {
				msg += fmt.Sprintf(" Keys there: %s.", strings.Join(keysOf(m), ", "))
			}
			return msg + " Set it in values.yaml or with --set, or give a default: {{ " + expr + " | default(...) }}"
		}
		cur = next
		at += "." + seg
	}
	return expr + " is undefined"
}

func walk(values map[string]any, segs []string) (any, bool) {
	var cur any = values
	for _, s := range segs {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[s]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func short(v any) string {
	switch t := v.(type) {
	case string:
		return strconv.Quote(truncate(t, 40))
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	}
	return fmt.Sprint(v)
}

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case []any:
		return "list"
	case nil:
		return "null"
	case bool:
		return "boolean"
	}
	return "number"
}

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// closest is the key nearest to s by edit distance, if near enough to be a typo.
func closest(s string, keys []string) string { return suggest.Typo(s, keys) }
