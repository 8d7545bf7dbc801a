package render

import (
	"fmt"
	"regexp"
	"runtime/debug"
	"strings"

	controlStructures "github.com/sherpack/kubectl-sherpack/internal/jinja/builtins/control_structures"
	"github.com/sherpack/kubectl-sherpack/internal/jinja/exec"
	"github.com/sherpack/kubectl-sherpack/internal/jinja/nodes"
	"github.com/sherpack/kubectl-sherpack/internal/jinja/parser"
)

// recoverAt turns a panic of the template engine into an error naming the template, so that no
// template source and no values can crash the plugin. A panic is a bug: the message asks for a
// report with the stack's first frame of ours.
func recoverAt(file, source string, err *error) {
	p := recover()
	if p == nil {
		return
	}
	if e, ok := p.(error); ok && strings.Contains(e.Error(), "integer divide by zero") {
		// The operators check their divisor; a filter or function dividing without a check
		// ends up here.
		*err = &Error{Template: file, Line: operatorLine(source), Msg: "division or modulo by zero (a % or // whose right side is 0)"}
		return
	}
	*err = &Error{Template: file, Msg: fmt.Sprintf("the template engine failed on this template (%v); please report it with the template%s", p, panicFrame())}
}

// panicFrame is the innermost function of the template engine in the panic's stack.
func panicFrame() string {
	for _, l := range strings.Split(string(debug.Stack()), "\n") {
		l = strings.TrimSpace(l)
		if strings.Contains(l, "internal/jinja/") && !strings.HasPrefix(l, "/") {
			return " (at " + l + ")"
		}
	}
	return ""
}

// maxCallDepth bounds macro recursion: a macro calling itself without end would otherwise
// overflow the stack, which no recover can catch.
const maxCallDepth = 100

// guardedMacro defines a macro like gonja's, then replaces it in the context by a wrapper that
// counts the calls in progress.
type guardedMacro struct {
	*controlStructures.MacroControlStructure
	depth *int
}

func (g *guardedMacro) Execute(r *exec.Renderer, tag *nodes.ControlStructureBlock) error {
	if err := g.MacroControlStructure.Execute(r, tag); err != nil {
		return err
	}
	guardInContext(r.Environment.Context, g.Name, g.depth)
	return nil
}

// guardedFrom imports macros like gonja's, then guards them as guardedMacro does.
type guardedFrom struct {
	*controlStructures.FromImportControlStructure
	depth *int
}

func (g *guardedFrom) Execute(r *exec.Renderer, tag *nodes.ControlStructureBlock) error {
	if err := g.FromImportControlStructure.Execute(r, tag); err != nil {
		return err
	}
	for alias := range g.As {
		guardInContext(r.Environment.Context, alias, g.depth)
	}
	return nil
}

func guardInContext(ctx *exec.Context, name string, depth *int) {
	v, ok := ctx.Get(name)
	if !ok {
		return
	}
	fn, ok := v.(exec.Macro)
	if !ok {
		return
	}
	ctx.Set(name, func(p *exec.VarArgs) *exec.Value {
		if *depth >= maxCallDepth {
			return errValue("macro %s: calls nested deeper than %d (a macro that calls itself without end?)", name, maxCallDepth)
		}
		*depth++
		defer func() { *depth-- }()
		return fn(p)
	})
}

// guardMacros makes macro definitions and from-imports of cs guarded.
func guardMacros(cs *exec.ControlStructureSet, depth *int) {
	macroParse, _ := cs.Get("macro")
	_ = cs.Replace("macro", func(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
		n, err := macroParse(p, args)
		if m, ok := n.(*controlStructures.MacroControlStructure); ok && err == nil {
			return &guardedMacro{MacroControlStructure: m, depth: depth}, nil
		}
		return n, err
	})
	fromParse, _ := cs.Get("from")
	_ = cs.Replace("from", func(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
		n, err := fromParse(p, args)
		if f, ok := n.(*controlStructures.FromImportControlStructure); ok && err == nil {
			return &guardedFrom{FromImportControlStructure: f, depth: depth}, nil
		}
		return n, err
	})
}

var exprRE2 = regexp.MustCompile(`\{\{.*?\}\}|\{%.*?%\}`)

// operatorLine is the line of the only tag in source that uses % or // as an operator (0 when
// there is not exactly one), to place an error the engine reports without a position.
func operatorLine(source string) int {
	found := 0
	for i, l := range strings.Split(source, "\n") {
		for _, tag := range exprRE2.FindAllString(l, -1) {
			inner := strings.Trim(tag, "{}%-+ ")
			if strings.Contains(inner, "%") || strings.Contains(inner, "//") {
				if found != 0 && found != i+1 {
					return 0
				}
				found = i + 1
			}
		}
	}
	return found
}
