package exec

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sherpack/kubectl-sherpack/internal/jinja/nodes"
)

// pyFormat is Python's printf-style formatting, "fmt" % args: a tuple on the right gives the
// arguments; a mapping feeds %(name)s; anything else is the only argument.
func (e *Evaluator) pyFormat(node *nodes.BinaryExpression, left, right *Value) *Value {
	var args []*Value
	var mapping *Value
	if _, isTuple := node.Right.(*nodes.Tuple); isTuple && right.IsList() {
		for i := 0; i < right.Len(); i++ {
			args = append(args, right.Index(i))
		}
	} else {
		args = []*Value{right}
		if right.IsDict() {
			mapping = right
		}
	}
	out, err := formatPercent(left.String(), args, mapping)
	if err != nil {
		return opError(node, "%s", err.Error())
	}
	return AsValue(out)
}

func formatPercent(format string, args []*Value, mapping *Value) (string, error) {
	var b strings.Builder
	next := 0
	usedMapping := false
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(format) {
			return "", fmt.Errorf("incomplete format")
		}
		var arg *Value
		if format[i] == '(' {
			end := strings.IndexByte(format[i:], ')')
			if end < 0 || mapping == nil {
				return "", fmt.Errorf("format requires a mapping")
			}
			key := format[i+1 : i+end]
			v, ok := mapping.GetItem(key)
			if !ok {
				return "", fmt.Errorf("KeyError: '%s'", key)
			}
			arg, usedMapping = v, true
			i += end + 1
		}
		spec := "%"
		for i < len(format) && strings.IndexByte("-+ #0", format[i]) >= 0 {
			spec += string(format[i])
			i++
		}
		for i < len(format) && (format[i] >= '0' && format[i] <= '9' || format[i] == '.') {
			spec += string(format[i])
			i++
		}
		if i >= len(format) {
			return "", fmt.Errorf("incomplete format")
		}
		verb := format[i]
		if verb == '%' && arg == nil {
			b.WriteByte('%')
			continue
		}
		if arg == nil {
			if next >= len(args) {
				return "", fmt.Errorf("not enough arguments for format string")
			}
			arg = args[next]
			next++
		}
		s, err := formatOne(spec, verb, arg)
		if err != nil {
			return "", err
		}
		b.WriteString(s)
	}
	if next < len(args) && !usedMapping && !(mapping != nil && next == 0) {
		return "", fmt.Errorf("not all arguments converted during string formatting")
	}
	return b.String(), nil
}

func formatOne(spec string, verb byte, arg *Value) (string, error) {
	isNum, isFloat := numeric(arg)
	switch verb {
	case 's':
		return fmt.Sprintf(spec+"s", arg.String()), nil
	case 'r', 'a':
		return fmt.Sprintf(spec+"s", Repr(arg)), nil
	case 'd', 'i', 'u':
		if !isNum {
			return "", fmt.Errorf("%%%c format: a real number is required, not %s", verb, pyType(arg))
		}
		return fmt.Sprintf(spec+"d", int(floatOf(arg))), nil
	case 'x', 'X', 'o':
		if !isNum || isFloat {
			return "", fmt.Errorf("%%%c format: an integer is required, not %s", verb, pyType(arg))
		}
		s := fmt.Sprintf(spec+string(verb), intOf(arg))
		if verb == 'o' && strings.Contains(spec, "#") {
			s = strings.Replace(s, "0", "0o", 1)
		}
		return s, nil
	case 'f', 'F', 'e', 'E', 'g', 'G':
		if !isNum {
			return "", fmt.Errorf("must be real number, not %s", pyType(arg))
		}
		if !strings.Contains(spec, ".") {
			spec += ".6"
		}
		return fmt.Sprintf(spec+string(verb), floatOf(arg)), nil
	case 'c':
		if isNum && !isFloat {
			return fmt.Sprintf(spec+"c", rune(intOf(arg))), nil
		}
		if s := arg.String(); arg.IsString() && len([]rune(s)) == 1 {
			return fmt.Sprintf(spec+"s", s), nil
		}
		return "", fmt.Errorf("%%c requires int or char")
	}
	return "", fmt.Errorf("unsupported format character '%c'", verb)
}

// Repr is Python's repr() of v: strings quoted as Python quotes them, None, True, lists and
// mappings of reprs.
func Repr(v *Value) string {
	switch {
	case v == nil || v.IsNil():
		return "None"
	case v.IsString():
		return pyQuote(v.String())
	case v.IsList():
		var b strings.Builder
		b.WriteByte('[')
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(Repr(v.Index(i)))
		}
		b.WriteByte(']')
		return b.String()
	}
	return v.String()
}

// pyQuote quotes s as Python's repr does: with ' unless s holds a ' and no ".
func pyQuote(s string) string {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(q):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\x` + strconv.FormatInt(int64(r)+0x100, 16)[1:])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}
