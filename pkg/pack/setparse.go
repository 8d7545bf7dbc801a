package pack

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// maxListIndex bounds --set list[N] so that a typo cannot allocate gigabytes.
const maxListIndex = 65536

// ParseSet reads Helm's --set syntax: comma-separated key=value pairs; keys are dotted paths
// with list indexes (a.b[0].c) where "\." escapes a dot; values end at an unescaped comma ("\,"
// escapes one); {a,b} is a list. With typed, true/false, null and integers are typed (null
// deletes the key); otherwise every value is a string.
func ParseSet(s string, typed bool) (map[string]any, error) {
	out := map[string]any{}
	p := &setParser{in: s, typed: typed}
	for p.pos < len(p.in) {
		keyText, err := p.until('=', true)
		if err != nil {
			return nil, err
		}
		segs, err := p.parseKey(keyText)
		if err != nil {
			return nil, err
		}
		if p.pos >= len(p.in) || p.in[p.pos] != '=' {
			return nil, fmt.Errorf("key %q has no value: write %s=VALUE", keyText, keyText)
		}
		p.pos++ // '='
		v, err := p.value()
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", keyText, err)
		}
		if err := assign(out, segs, v); err != nil {
			return nil, fmt.Errorf("key %q: %w", keyText, err)
		}
		if p.pos < len(p.in) {
			if p.in[p.pos] != ',' {
				return nil, fmt.Errorf("unexpected %q at position %d", p.in[p.pos], p.pos)
			}
			p.pos++
		}
	}
	return out, nil
}

type setParser struct {
	in    string
	pos   int
	typed bool
}

// until reads up to (not including) stop, honouring backslash escapes; for keys it also stops
// at a comma (a key without a value).
func (p *setParser) until(stop byte, key bool) (string, error) {
	var b strings.Builder
	for p.pos < len(p.in) {
		c := p.in[p.pos]
		if c == '\\' && p.pos+1 < len(p.in) {
			b.WriteByte('\\')
			b.WriteByte(p.in[p.pos+1])
			p.pos += 2
			continue
		}
		if c == stop || (key && c == ',') {
			break
		}
		b.WriteByte(c)
		p.pos++
	}
	return b.String(), nil
}

// parseKey splits a.b[0].c (with \. escapes) into segments: string keys and int indexes.
func (p *setParser) parseKey(k string) ([]any, error) {
	if k == "" {
		return nil, errors.New("empty key")
	}
	var segs []any
	var cur strings.Builder
	hasCur := false
	flush := func() {
		if hasCur {
			segs = append(segs, cur.String())
			cur.Reset()
			hasCur = false
		}
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c == '\\' && i+1 < len(k):
			cur.WriteByte(k[i+1])
			hasCur = true
			i++
		case c == '.':
			if !hasCur && (len(segs) == 0 || isKey(segs[len(segs)-1])) {
				return nil, fmt.Errorf("key %q has an empty part", k)
			}
			flush()
		case c == '[':
			flush()
			if len(segs) == 0 {
				return nil, fmt.Errorf("key %q starts with an index; name the list first (list[0]=x)", k)
			}
			end := strings.IndexByte(k[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("key %q: unclosed [", k)
			}
			n, err := strconv.Atoi(k[i+1 : i+end])
			if err != nil || n < 0 {
				return nil, fmt.Errorf("key %q: index %q is not a non-negative integer", k, k[i+1:i+end])
			}
			if n > maxListIndex {
				return nil, fmt.Errorf("key %q: index %d is larger than %d", k, n, maxListIndex)
			}
			segs = append(segs, n)
			i += end
		default:
			cur.WriteByte(c)
			hasCur = true
		}
	}
	if !hasCur && (len(segs) == 0 || isKey(segs[len(segs)-1])) {
		return nil, fmt.Errorf("key %q ends with an empty part", k)
	}
	flush()
	return segs, nil
}

func isKey(s any) bool { _, ok := s.(string); return ok }

// value reads one value: JSON when it starts with [ or { and is valid JSON up to the end or a
// comma (upstream's rule, for --set only); else {a,b,c} is a list, otherwise text up to an
// unescaped comma.
func (p *setParser) value() (any, error) {
	if v, n, ok := p.jsonValue(); ok {
		p.pos += n
		return v, nil
	}
	if p.pos < len(p.in) && p.in[p.pos] == '{' {
		end := p.pos + 1
		depth := 1
		for ; end < len(p.in) && depth > 0; end++ {
			switch p.in[end] {
			case '\\':
				end++
			case '{':
				depth++
			case '}':
				depth--
			}
		}
		if depth != 0 {
			return nil, errors.New("unclosed {")
		}
		inner := p.in[p.pos+1 : end-1]
		p.pos = end
		var list []any
		sub := &setParser{in: inner, typed: p.typed}
		for sub.pos <= len(sub.in) && inner != "" {
			raw, _ := sub.until(',', false)
			list = append(list, p.scalar(raw))
			if sub.pos >= len(sub.in) {
				break
			}
			sub.pos++
		}
		if list == nil {
			list = []any{}
		}
		return list, nil
	}
	raw, _ := p.until(',', false)
	return p.scalar(raw), nil
}

// jsonValue decodes a JSON array or object at the current position, and how many bytes it took.
func (p *setParser) jsonValue() (any, int, bool) {
	if !p.typed || p.pos >= len(p.in) || (p.in[p.pos] != '[' && p.in[p.pos] != '{') {
		return nil, 0, false
	}
	dec := json.NewDecoder(strings.NewReader(p.in[p.pos:]))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, 0, false
	}
	n := int(dec.InputOffset())
	if rest := p.in[p.pos+n:]; rest != "" && rest[0] != ',' {
		return nil, 0, false
	}
	return Normalize(v), n, true
}

func (p *setParser) scalar(raw string) any {
	s := unescape(raw)
	if !p.typed {
		return s
	}
	switch s {
	case "true":
		return true
	case "false":
		return false
	case "null":
		return nil
	}
	if isInteger(s) {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
	}
	return s
}

// isInteger accepts -?[1-9][0-9]* and 0: "007" stays a string, as in Helm.
func isInteger(s string) bool {
	t := strings.TrimPrefix(s, "-")
	if t == "" || (len(t) > 1 && t[0] == '0') {
		return false
	}
	for _, c := range t {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// assign sets v at segs inside root, creating maps and lists on the way.
func assign(root map[string]any, segs []any, v any) error {
	var cur any = root
	for i, seg := range segs {
		last := i == len(segs)-1
		switch c := cur.(type) {
		case map[string]any:
			k := seg.(string)
			if last {
				c[k] = v
				return nil
			}
			next, ok := c[k]
			if !ok || next == nil || !compatible(next, segs[i+1]) {
				next = emptyFor(segs[i+1])
				c[k] = next
			}
			if l, ok := next.([]any); ok {
				idx := segs[i+1].(int)
				if idx >= len(l) {
					nl := make([]any, idx+1)
					copy(nl, l)
					c[k] = nl
					next = nl
				}
			}
			cur = next
		case []any:
			idx, ok := seg.(int)
			if !ok {
				return fmt.Errorf("%v is a list; index it with [N]", segs[:i])
			}
			if last {
				c[idx] = v
				return nil
			}
			next := c[idx]
			if next == nil || !compatible(next, segs[i+1]) {
				next = emptyFor(segs[i+1])
			}
			if l, ok := next.([]any); ok {
				nidx := segs[i+1].(int)
				if nidx >= len(l) {
					nl := make([]any, nidx+1)
					copy(nl, l)
					next = nl
				}
			}
			c[idx] = next
			cur = next
		}
	}
	return nil
}

func compatible(v any, nextSeg any) bool {
	switch v.(type) {
	case map[string]any:
		return isKey(nextSeg)
	case []any:
		return !isKey(nextSeg)
	}
	return false
}

func emptyFor(nextSeg any) any {
	if isKey(nextSeg) {
		return map[string]any{}
	}
	return []any{}
}
